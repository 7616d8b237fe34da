"""Language model engines: local llama.cpp in its own process, a remote server, and a fake."""
