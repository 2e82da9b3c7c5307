import pathlib
import sys

# make_vectors.py and fake_server.py are plain modules next to the tests.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
