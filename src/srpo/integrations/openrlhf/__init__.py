"""srpo for OpenRLHF: `srpo-reward-server`, an HTTP reward server for `--remote_rm_url`.

    srpo-reward-server --port 5000 --workers 8 --record --samples-per-prompt 8
    # OpenRLHF: --remote_rm_url http://127.0.0.1:5000/get_reward --label_key srpo_label

Public API: `ServerConfig`, `RewardService`, `start_server` / `stop_server` (a server in a
background thread, for tests and benchmarks), `serve` (the command's loop), the protocol's
`parse_request` and `reward_answer`, and `GradingQueue`. Importing this package starts nothing.
"""

from srpo.integrations.openrlhf.grading_queue import GradingQueue
from srpo.integrations.openrlhf.protocol import RewardRequest, parse_request, response_text, reward_answer
from srpo.integrations.openrlhf.server import RewardService, ServerConfig, serve, start_server, stop_server

__all__ = [
    "GradingQueue",
    "RewardRequest",
    "RewardService",
    "ServerConfig",
    "parse_request",
    "response_text",
    "reward_answer",
    "serve",
    "start_server",
    "stop_server",
]
