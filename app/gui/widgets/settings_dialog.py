"""Settings: model (bundled or a GGUF file, with its metadata shown before loading), model
runtime options, embedding model, data folder, remote server + token, team index server +
token (Settings → Team), theme.

The token never goes into settings.json: it is saved with :func:`app.secrets.set_secret`
(the OS keyring); when no secure store exists the dialog says so and saves nothing.
"""

from __future__ import annotations

import copy
import html
from pathlib import Path
from typing import Any, Callable

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLabel, QLayout, QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from app.errors import DossierError
from app.settings import Settings

BUNDLED = "Bundled default model"
GGUF = "GGUF file…"

Inspector = Callable[[str], Any]  # path -> ModelInfo (raises DossierError)


def _default_inspector(path: str) -> Any:
    from app.llm.bundled import bundled_model_path
    from app.llm.gguf_info import read_gguf_info

    return read_gguf_info(path or bundled_model_path())  # "" = the bundled model


def model_info_html(info: Any) -> str:
    params = getattr(info, "parameters", 0)
    rows = [("Name", info.name), ("Architecture", getattr(info, "architecture", "")),
            ("Parameters", f"{params / 1e9:.2f} B" if params >= 1e8 else (f"{params / 1e6:.0f} M" if params else "")),
            ("Quantization", getattr(info, "quantization", "")),
            ("Trained context", getattr(info, "trained_context", "") or ""),
            ("Chat template", "yes" if getattr(info, "has_chat_template", False) else "no — answers may be poor")]
    return "<br>".join(f"{k}: <b>{html.escape(str(v))}</b>" for k, v in rows if v != "")


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, data_dir: str, inspector: Inspector | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.original = settings
        self.settings = copy.deepcopy(settings)
        self.inspector = inspector or _default_inspector
        self.model_info: Any = None
        self.token_message = ""
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setVerticalSpacing(7)
        _section(form, "Language model", first=True)
        self._model_rows(form)
        self._runtime_rows(form)
        self._other_rows(form, settings, data_dir)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        # sized to its contents, so wrapped notes (model facts, keyring messages) are never clipped
        layout.setSizeConstraint(QLayout.SizeConstraint.SetFixedSize)
        self.model_path.setMinimumWidth(380)
        self._check_secure_store()

    def _other_rows(self, form: QFormLayout, settings: Settings, data_dir: str) -> None:
        self.embedder = QComboBox(self)
        self.embedder.setEditable(True)
        self.embedder.addItem("minilm")
        self.embedder.setCurrentText(settings.embedder)
        self.embedder.setToolTip("'minilm' (bundled all-MiniLM-L6-v2) or a local sentence-transformers folder. "
                                 "A new embedding model takes effect after a restart and needs the documents re-indexed "
                                 "(select them and press Re-index).")
        _section(form, "Documents and index")
        form.addRow("Embedding model", self.embedder)
        self.ocr = QCheckBox("Read scanned pages with OCR (on this computer)", self)
        self.ocr.setChecked(settings.ocr)
        self.ocr.setToolTip("Pages without a text layer are read with the bundled OCR models. Slow on scans "
                            "(seconds per page); documents already indexed keep their text.")
        form.addRow("Scanned pages", self.ocr)
        self.data_dir = QLineEdit(data_dir, self)
        self.data_dir.setToolTip("Where the index, settings and logs live. A new folder is used from the next start.")
        form.addRow("Data folder", self._with_browse(self.data_dir, folder=True))
        _section(form, "Servers (optional)")
        self.remote_url = QLineEdit(settings.llm_remote_url, self)
        self.remote_url.setPlaceholderText("e.g. http://gpu-server:8080 (empty = model on this computer)")
        form.addRow("Model server URL", self.remote_url)
        self.token = QLineEdit(self)
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("unchanged")
        form.addRow("Server token", self.token)
        self.token_note = QLabel("")
        self.token_note.setWordWrap(True)
        form.addRow("", self.token_note)
        self._team_rows(form, settings)
        _section(form, "Appearance")
        self.theme = QComboBox(self)
        for text, key in (("Follow the system", "system"), ("Light", "light"), ("Dark", "dark")):
            self.theme.addItem(text, key)
        self.theme.setCurrentIndex(max(0, self.theme.findData(settings.theme)))
        form.addRow("Theme", self.theme)

    # -- Team: shared index server ------------------------------------------------------
    def _team_rows(self, form: QFormLayout, settings: Settings) -> None:
        """Team index server (``dossier serve-index``) and its token; empty URL = local index."""
        self.index_url = QLineEdit(settings.index_server_url, self)
        self.index_url.setPlaceholderText("e.g. http://index-host:8765 (empty = index on this computer)")
        self.index_url.setToolTip("Team mode: documents, search and answers use the team's shared index. "
                                  "Your own documents stay in the local index and come back when this is empty.")
        form.addRow("Team index server", self.index_url)
        self.index_token = QLineEdit(self)
        self.index_token.setEchoMode(QLineEdit.EchoMode.Password)
        self.index_token.setPlaceholderText("unchanged")
        form.addRow("Team index token", self.index_token)
        self.index_note = QLabel("")
        self.index_note.setWordWrap(True)
        form.addRow("", self.index_note)

    def _save_index_token(self) -> bool:
        token = self.index_token.text()
        if not token:
            return True
        url = self.index_url.text().strip()
        if not url:
            self.index_note.setText("Enter the team index server address the token belongs to.")
            return False
        from app.secrets import set_secret
        from app.store.remote_index import index_secret_name

        try:
            set_secret(index_secret_name(url), token)
        except DossierError as err:
            self.index_note.setText(f"The token was not saved: {err}")
            return False
        finally:
            self.index_token.clear()
        self.token_message = "Token saved in the system keyring."
        return True

    def _model_rows(self, form: QFormLayout) -> None:
        self.model_choice = QComboBox(self)
        self.model_choice.addItems([BUNDLED, GGUF])
        self.model_path = QLineEdit(self.settings.llm_model, self)
        self.model_path.editingFinished.connect(self.inspect)
        self.model_info_label = QLabel("")
        self.model_info_label.setWordWrap(True)
        self.model_choice.setCurrentText(GGUF if self.settings.llm_model else BUNDLED)
        self.model_choice.currentTextChanged.connect(self._choice_changed)
        form.addRow("Language model", self.model_choice)
        form.addRow("GGUF file", self._with_browse(self.model_path, folder=False))
        form.addRow("", self.model_info_label)
        self._choice_changed(self.model_choice.currentText())
        if self.settings.llm_model:
            self.inspect()

    def _runtime_rows(self, form: QFormLayout) -> None:
        self.gpu_layers = self._spin(-1, 999, self.settings.llm_gpu_layers, "How many layers run on the GPU: "
                                     "all, none (0 = CPU only) or a number (when the model does not fit)", "All layers")
        self.n_ctx = self._spin(0, 262144, self.settings.llm_n_ctx, "How many tokens the model reads at once; "
                                "automatic = chosen from the model and this computer's memory", "Automatic")
        self.threads = self._spin(0, 256, self.settings.llm_threads, "CPU threads for the model; automatic = "
                                  "chosen from this computer", "Automatic")
        form.addRow("GPU layers", self.gpu_layers)
        form.addRow("Context (tokens)", self.n_ctx)
        form.addRow("Threads", self.threads)

    def _spin(self, lo: int, hi: int, value: int, tip: str, special: str = "") -> QSpinBox:
        s = QSpinBox(self)
        s.setRange(lo, hi)
        s.setValue(value)
        s.setToolTip(tip)
        s.setSpecialValueText(special)  # shown for the lowest value (-1 / 0), which means "let Dossier choose"
        return s

    def _with_browse(self, edit: QLineEdit, folder: bool) -> QWidget:
        box = QWidget(self)
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(edit, 1)
        b = QPushButton("Browse…", box)
        b.clicked.connect(lambda: self._browse(edit, folder))
        row.addWidget(b)
        return box

    def _browse(self, edit: QLineEdit, folder: bool) -> None:
        if folder:
            path = QFileDialog.getExistingDirectory(self, "Choose the data folder", edit.text())
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Choose a GGUF model", edit.text(), "GGUF models (*.gguf)")
        if path:
            edit.setText(path)
            if not folder:
                self.inspect()

    def _choice_changed(self, text: str) -> None:
        self.model_path.setEnabled(text == GGUF)
        if text == BUNDLED:
            note = "Bundled with Dossier: small and fast, good for finding evidence; its prose is weak."
            try:
                info = self.inspector("")  # the service's inspector reads the bundled model for ""
            except (DossierError, OSError):
                info = None
            self.model_info_label.setText(f"{html.escape(note)}<br>{model_info_html(info)}" if info else html.escape(note))

    def inspect(self) -> Any:
        """Read the chosen GGUF's metadata (cheap: header only) and show it. None on error."""
        path = self.model_path.text().strip()
        self.model_info = None
        if not path:
            self.model_info_label.setText("Choose a .gguf file.")
            return None
        try:
            self.model_info = self.inspector(path)
        except DossierError as err:
            self.model_info_label.setText(f"<span style='color:#b00'>{html.escape(str(err))}</span>")
            return None
        except OSError as err:
            self.model_info_label.setText(f"<span style='color:#b00'>Cannot read {html.escape(path)}: "
                                          f"{html.escape(err.strerror or str(err))}. Choose another file.</span>")
            return None
        self.model_info_label.setText(model_info_html(self.model_info))
        return self.model_info

    def _check_secure_store(self) -> None:
        from app.secrets import secure_store_available

        ok, detail = secure_store_available()
        self.token.setEnabled(ok)
        self.token_note.setText("" if ok else f"Tokens cannot be saved: {detail}")
        self.index_token.setEnabled(ok)
        self.index_note.setText("" if ok else f"Tokens cannot be saved: {detail}")

    # -- result -----------------------------------------------------------------------
    def accept(self) -> None:
        if self.model_choice.currentText() == GGUF and self.inspect() is None:
            return  # keep the dialog open: the message says what is wrong
        if not self._save_token() or not self._save_index_token():
            return
        s = self.settings
        s.llm_model = self.model_path.text().strip() if self.model_choice.currentText() == GGUF else ""
        s.llm_gpu_layers, s.llm_n_ctx, s.llm_threads = self.gpu_layers.value(), self.n_ctx.value(), self.threads.value()
        s.embedder = self.embedder.currentText().strip() or "minilm"
        s.ocr = self.ocr.isChecked()
        s.llm_remote_url = self.remote_url.text().strip()
        s.index_server_url = self.index_url.text().strip()
        s.theme = str(self.theme.currentData() or "system")
        super().accept()

    def _save_token(self) -> bool:
        token = self.token.text()
        if not token:
            return True
        url = self.remote_url.text().strip()
        if not url:
            self.token_note.setText("Enter the server URL the token belongs to.")
            return False
        from app.llm.remote import remote_secret_name
        from app.secrets import set_secret

        try:
            set_secret(remote_secret_name(url), token)
        except DossierError as err:
            self.token_note.setText(f"The token was not saved: {err}")
            return False
        finally:
            self.token.clear()
        self.token_message = "Token saved in the system keyring."
        return True

    def new_data_dir(self) -> str:
        return str(Path(self.data_dir.text().strip()).expanduser()) if self.data_dir.text().strip() else ""


def _section(form: QFormLayout, title: str, first: bool = False) -> None:
    """A bold heading row that groups the settings below it."""
    label = QLabel(f"<b>{html.escape(title)}</b>")
    if not first:
        label.setContentsMargins(0, 10, 0, 0)
    form.addRow(label)
