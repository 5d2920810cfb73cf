VERSION = "7.0.0.dev0"
