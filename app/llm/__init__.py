"""Language model engines: local llama.cpp in its own process, a remote server, and a fake.

Import the concrete engines from their modules (``app.llm.local``, ``app.llm.remote``,
``app.llm.fake``) or build the configured one with :func:`app.llm.factory.create_llm`.
"""
