"""The experiment grid: config validation (`config`), result paths (`paths`), GPU cost (`cost`)."""
