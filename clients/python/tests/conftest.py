import pathlib
import sys

# make_vectors.py and fake_server.py are plain modules next to the tests, and the package
# under test is the folder above them: both importable without installing anything and
# whatever pytest's import mode (on a fresh machine nothing else put the package on the path).
_tests = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(_tests.parent))
sys.path.insert(0, str(_tests))
