"""Packaged scenario files for the simulated Telegram (``load_scenario("seed")``)."""
