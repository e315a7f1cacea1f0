"""`python -m srpo.integrations.openrlhf` runs `srpo-reward-server`."""

from srpo.integrations.openrlhf.command import main

main()
