"""PyInstaller runtime hook: offline flags before any bundled module is imported.

Why here as well as in the app (``app.netguard.apply_offline_env``): a runtime hook runs
before the entry script, so not even an import-time side effect of a bundled library
(Hugging Face hub, Chroma/PostHog telemetry, OpenTelemetry) can see an online default, in
the main process or in any child started from the bundle. ``setdefault``: an administrator
can still override a flag for debugging.
"""

import os

for _key, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_HUB_DISABLE_XET": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "ANONYMIZED_TELEMETRY": "False",
    "CHROMA_TELEMETRY": "False",
    "OTEL_SDK_DISABLED": "true",
    "DO_NOT_TRACK": "1",
}.items():
    os.environ.setdefault(_key, _value)
