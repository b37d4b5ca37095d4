"""Turn timeline slices back into what models and people consume: context windows, search results."""
