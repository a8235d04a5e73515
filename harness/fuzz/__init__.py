"""The fuzzer (`python -m harness fuzz`): strategy.py draws cases, kinds.py says what is a find and how
bad, campaign.py runs the search and writes what it finds."""
