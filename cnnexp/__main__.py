import sys

from cnnexp.cli import main

if __name__ == "__main__":  # guarded: the runner's spawned workers import this module
    sys.exit(main())
