import sys

if __name__ == "__main__":  # guarded: the runner's spawned workers import this module
    try:  # the CLI's imports take a second: Ctrl-C then is one line too, not a traceback
        from cnnexp.cli import main
    except KeyboardInterrupt:
        print("\ninterrupted before anything started", file=sys.stderr)
        sys.exit(130)
    sys.exit(main())
