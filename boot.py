# Runs first on a board; keep it short: main.py starts the node.
import gc

gc.collect()
