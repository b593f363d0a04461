"""OmegaConf resolvers the Hydra configs use, so paths never depend on the working directory."""

from pathlib import Path

from omegaconf import OmegaConf

PROJECT_ROOT = Path(__file__).resolve().parents[2]

if not OmegaConf.has_resolver("stance_root"):
    OmegaConf.register_new_resolver("stance_root", lambda: str(PROJECT_ROOT))
