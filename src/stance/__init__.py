"""stance: what news text says about four policy responses to Russia's 2022 invasion of Ukraine."""

__version__ = "0.1.0"
