"""Curation: adapters, cleaning pipeline, ingest orchestration and exports."""
