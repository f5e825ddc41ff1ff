"""Where the server listens unless told otherwise, in a module of its own that imports nothing, so that
``mlpkit serve --help`` shows it without importing the server, python-osc and the FluCoMa estimators."""

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 57130
