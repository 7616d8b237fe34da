"""The model process: owns one ``llama_cpp.Llama`` and serves requests over a pipe.

Why a separate process: a native crash (segfault, out of memory) in llama.cpp must not take
the GUI down, and a long prompt evaluation cannot be interrupted from Python — the parent
kills this process instead and starts a new one.

Protocol (all messages are tuples; the parent sends dicts):

* start-up: ``("ready", info)`` or ``("error", kind, message)``
* ``{"op": "count", "texts": [...]}`` → ``("counts", [int, ...])``
* ``{"op": "chat", "messages", "max_tokens", "temperature", "stop"}`` →
  ``("prompt", done, total)`` while a long prompt is evaluated, ``("piece", text)`` …,
  then ``("done", stats, cancelled)`` or ``("error", kind, message)``
* ``{"op": "close"}`` → the process exits.

Cancellation: the parent sets the shared ``cancel_flag`` to 1; it is checked after every
sampled token (a llama-cpp-python stopping criterion), so generation ends within one
token and the child answers ``("done", stats, True)``.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

FALLBACK_STOP = ["\n###", "### User:", "### System:"]
#: llama.cpp's classic default; llama-cpp-python 0.3 defaults to 1.0 (off), with which small
#: models loop ("The answer is: The answer is: ..."). It looks back 64 tokens, so copying a
#: number from a source far back in the prompt is not penalised.
REPEAT_PENALTY = 1.1


def main(conn: Any, cancel_flag: Any, config: dict[str, Any]) -> None:
    """Entry point of the model process (``multiprocessing`` spawn target)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from app.netguard import install_from_env

    install_from_env()  # this process never needs the network: strict unless the parent said otherwise
    try:
        engine = _Engine(config)
    except Exception as e:  # noqa: BLE001 - reported to the parent as a load error
        conn.send(("error", "load", f"{type(e).__name__}: {e}"))
        return
    conn.send(("ready", engine.describe()))
    while True:
        try:
            req = conn.recv()
        except (EOFError, OSError):  # parent went away
            return
        if req.get("op") == "close":
            return
        try:
            engine.handle(req, conn, cancel_flag)
        except (BrokenPipeError, EOFError):
            return
        except Exception as e:  # noqa: BLE001 - one failed request must not end the process
            conn.send(("error", "internal", f"{type(e).__name__}: {e}"))


def disable_extra_bufts() -> None:
    """Make every ``Llama`` built in this process load with ``use_extra_bufts=False``.

    Why: llama.cpp's extra (repacking) buffer types segfault on AMX CPUs for batches of more
    than one token. llama-cpp-python 0.3.36's ``Llama(...)`` silently drops an unknown
    ``use_extra_bufts=`` keyword (it lands in ``**kwargs``), so the flag is set on the
    model parameters it starts from instead.
    """
    from llama_cpp import llama_cpp as capi

    original = capi.llama_model_default_params
    if getattr(original, "_dossier_patched", False):
        return

    def patched() -> Any:
        params = original()
        params.use_extra_bufts = False
        return params

    patched._dossier_patched = True  # type: ignore[attr-defined]
    capi.llama_model_default_params = patched


class _Engine:
    """One loaded model plus the chat formatting and statistics around it."""

    def __init__(self, config: dict[str, Any]) -> None:
        import llama_cpp

        disable_extra_bufts()
        t0 = time.perf_counter()
        self.llm = llama_cpp.Llama(
            config["model_path"],
            n_ctx=config["n_ctx"],
            n_gpu_layers=config["n_gpu_layers"],
            n_threads=config["threads"],
            n_threads_batch=config["threads"],
            n_batch=config["batch"],
            n_ubatch=config["batch"],
            use_extra_bufts=False,  # dropped by 0.3.36 (see disable_extra_bufts); kept for newer versions
            verbose=False,
        )
        self.load_seconds = time.perf_counter() - t0
        self.formatter = self._make_formatter()

    def _make_formatter(self) -> Any:
        from llama_cpp import llama_chat_format

        template = self.llm.metadata.get("tokenizer.chat_template", "")
        if not template.strip():
            return None
        eos, bos = self.llm.token_eos(), self.llm.token_bos()
        return llama_chat_format.Jinja2ChatFormatter(
            template=template,
            eos_token=self.llm._model.token_get_text(eos) if eos != -1 else "",
            bos_token=self.llm._model.token_get_text(bos) if bos != -1 else "",
            stop_token_ids=[eos],
        )

    def describe(self) -> dict[str, Any]:
        return {
            "n_ctx": self.llm.n_ctx(),
            "chat_template": "gguf" if self.formatter is not None else "fallback",
            "load_seconds": round(self.load_seconds, 3),
            "pid": os.getpid(),
            "network_guard": _guard_mode(),
            "use_extra_bufts": bool(self.llm.model_params.use_extra_bufts),
        }

    def handle(self, req: dict[str, Any], conn: Any, cancel_flag: Any) -> None:
        op = req.get("op")
        if op == "count":
            conn.send(("counts", [self.count(t) for t in req["texts"]]))
        elif op == "chat":
            self.chat(req, conn, cancel_flag)
        else:
            conn.send(("error", "internal", f"unknown request {op!r}"))

    def count(self, text: str) -> int:
        if not text:
            return 0
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def prompt_tokens(self, messages: list[dict[str, str]]) -> tuple[list[int], list[str]]:
        """Token ids of the chat prompt, and the stop strings its template implies."""
        if self.formatter is None:
            text, stop, added = fallback_prompt(messages), list(FALLBACK_STOP), False
        else:
            res = self.formatter(messages=messages)
            text, added = res.prompt, res.added_special
            stop = [res.stop] if isinstance(res.stop, str) else list(res.stop or [])
        tokens = self.llm.tokenize(text.encode("utf-8"), add_bos=not added, special=True)
        return tokens, stop

    def eval_prompt(self, tokens: list[int], cached: int, conn: Any, cancel_flag: Any) -> bool:
        """Evaluate the uncached prompt (all but its last token) one batch at a time, sending
        ``("prompt", done, total)`` after each batch; False when cancelled in between.

        Why not leave it to ``create_completion``: it evaluates the whole prompt in one call with
        no sign of life. A 2,000-token prompt on a 7-8B model on a laptop CPU takes a minute or
        more; the parent's hang detection needs progress to tell "slow" from "stuck", and a
        cancel can now end the prompt between batches. ``create_completion`` then finds the
        evaluated prefix in llama.cpp's cache and decodes only the last token.
        """
        todo = tokens[:-1]
        if len(todo) - cached <= self.llm.n_batch:
            return True  # one batch: nothing to report
        self.llm.n_tokens = cached  # eval() drops the KV cache beyond this point first
        for start in range(cached, len(todo), self.llm.n_batch):
            if cancel_flag.value:
                return False
            batch = todo[start:start + self.llm.n_batch]
            self.llm.eval(batch)
            conn.send(("prompt", start + len(batch), len(tokens)))
        return not cancel_flag.value

    def chat(self, req: dict[str, Any], conn: Any, cancel_flag: Any) -> None:
        tokens, stop = self.prompt_tokens(req["messages"])
        n_ctx = self.llm.n_ctx()
        if len(tokens) >= n_ctx:
            conn.send(("error", "context", f"{len(tokens)} > {n_ctx}"))
            return
        cached = min(_common_prefix(self.llm._input_ids.tolist(), tokens), len(tokens) - 1)
        counter = _TokenCounter(cancel_flag)
        t0 = time.perf_counter()
        if not self.eval_prompt(tokens, cached, conn, cancel_flag):
            conn.send(("done", {"prompt_tokens": len(tokens), "cached_prompt_tokens": cached, "generated_tokens": 0,
                                "prompt_seconds": time.perf_counter() - t0, "generation_seconds": 0.0}, True))
            return
        t_first = None
        stream = self.llm.create_completion(
            tokens,
            max_tokens=max(1, min(req["max_tokens"], n_ctx - len(tokens))),
            temperature=req["temperature"],
            stop=(req.get("stop") or []) + stop,
            repeat_penalty=REPEAT_PENALTY,
            stream=True,
            stopping_criteria=counter.as_criteria(),
        )
        for chunk in stream:
            text = chunk["choices"][0]["text"]
            if text:
                if t_first is None:
                    t_first = time.perf_counter()
                conn.send(("piece", text))
            if cancel_flag.value:
                stream.close()
                break
        t_end = time.perf_counter()
        t_first = t_first if t_first is not None else t_end
        stats = {
            "prompt_tokens": len(tokens),
            "cached_prompt_tokens": max(0, cached),
            "generated_tokens": min(counter.count, req["max_tokens"]),
            "prompt_seconds": (counter.first_at or t_first) - t0,
            "generation_seconds": t_end - (counter.first_at or t_first),
        }
        conn.send(("done", stats, bool(cancel_flag.value)))


class _TokenCounter:
    """Counts sampled tokens and stops generation as soon as the cancel flag is set."""

    def __init__(self, cancel_flag: Any) -> None:
        self.cancel_flag, self.count, self.first_at = cancel_flag, 0, None

    def as_criteria(self) -> Any:
        from llama_cpp import StoppingCriteriaList

        def check(_ids: Any, _logits: Any) -> bool:
            if self.count == 0:
                self.first_at = time.perf_counter()
            self.count += 1
            return bool(self.cancel_flag.value)

        return StoppingCriteriaList([check])


def fallback_prompt(messages: list[dict[str, str]]) -> str:
    """Plain prompt for models whose GGUF has no chat template."""
    parts = []
    for m in messages:
        role = {"system": "System", "assistant": "Assistant"}.get(m["role"], "User")
        parts.append(f"### {role}:\n{m['content'].strip()}\n")
    parts.append("### Assistant:\n")
    return "\n".join(parts)


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _guard_mode() -> str:
    from app.netguard import mode

    return mode()
