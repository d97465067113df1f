"""A browserless Streamlit client: it speaks the app's own websocket protocol (``streamlit.proto``) to a running
server, so that a benchmark can play many students at a fraction of a browser's CPU.

It opens ``/_stcore/stream``, asks for script runs (a page, widget values, a button click) and reads the
ForwardMsgs until the run has finished, keeping what a test needs: the widgets drawn (by their keys), the text
shown, exceptions, and the fragments the page asked to rerun on a timer (which a browser would tick).
"""

from __future__ import annotations

import time
import urllib.request
import uuid
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Common_pb2 import FileURLs
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.sync.client import connect

VALUE_FIELDS = {  # widget element type -> the WidgetState field its value travels in
    "button": "trigger_value", "checkbox": "bool_value", "slider": "double_array_value",
    "selectbox": "string_value", "radio": "string_value", "text_input": "string_value", "text_area": "string_value",
    "number_input": "double_value", "multiselect": "string_array_value", "button_group": "string_array_value",
}


@dataclass
class RunResult:
    """What one script run drew."""

    seconds: float
    widgets: dict[str, tuple[str, str]] = field(default_factory=dict)  # user key -> (element type, widget id)
    fragment_of: dict[str, str] = field(default_factory=dict)  # user key -> the fragment that drew the widget
    texts: list[str] = field(default_factory=list)
    progress: list[str] = field(default_factory=list)  # the texts of st.progress bars (training status)
    exceptions: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)  # st.error / warning / info / success bodies
    html: list[str] = field(default_factory=list)  # what a browser would parse as HTML: markdown, st.html, iframes
    finished: bool = False
    bytes_received: int = 0


class StreamlitClient:
    """One simulated browser tab."""

    def __init__(self, base_url: str, timeout: float = 60.0):
        self.base_url = base_url.rstrip("/")
        self.url = self.base_url.replace("http://", "ws://") + "/_stcore/stream"
        self.timeout = timeout
        self.ws = connect(self.url, subprotocols=["streamlit"], max_size=None, open_timeout=timeout)
        self.pages: dict[str, str] = {}  # url path name ("" for the default) -> page script hash
        self.page_hash = ""
        self.auto_reruns: dict[str, float] = {}  # fragment id -> interval (s) the page asked for
        self.widget_values: dict[str, WidgetState] = {}  # widget id -> the last value this client sent
        self.session_id = ""
        self.query_string = ""

    def close(self) -> None:
        self.ws.close()

    # ----------------------------------------------------------------- runs
    def open_page(self, path: str = "") -> RunResult:
        """Show the page whose URL path (or title) is ``path`` ("" the default page), as a click in the sidebar
        does: the same session, its widget values kept."""
        if path and not self.pages:
            self.rerun()  # a fresh tab: the first run tells the client the app's pages
        if path and path not in self.pages:
            raise KeyError(f"No page {path!r}; pages: {sorted(self.pages)}")
        self.page_hash = self.pages.get(path, self.page_hash)
        return self.rerun(page_name=path)

    def click(self, result: RunResult, key: str) -> RunResult:
        """Click the button with user key ``key`` drawn in ``result`` (inside a fragment, as a browser does, that
        fragment's rerun only)."""
        _, widget_id = result.widgets[key]
        return self.rerun(extra=[WidgetState(id=widget_id, trigger_value=True)],
                          fragment_id=result.fragment_of.get(key, ""))

    def set_value(self, result: RunResult, key: str, value: object) -> RunResult:
        """Give the widget ``key`` drawn in ``result`` a new value (a selectbox's value is its shown label)."""
        kind, widget_id = result.widgets[key]
        state = WidgetState(id=widget_id)
        field_name = VALUE_FIELDS.get(kind, "string_value")
        if field_name == "double_array_value":
            state.double_array_value.data.extend(value if isinstance(value, list | tuple) else [value])
        elif field_name == "string_array_value":
            state.string_array_value.data.extend(value)
        else:
            setattr(state, field_name, value)
        return self.rerun(extra=[state], fragment_id=result.fragment_of.get(key, ""))

    def upload(self, result: RunResult, key: str, name: str, data: bytes) -> RunResult:
        """Drop a file on the uploader ``key``, as a browser does: ask for an upload URL, PUT the file there, then
        rerun with the uploader's new state. Needs a server started with ``--server.enableXsrfProtection false``."""
        _, widget_id = result.widgets[key]
        request = BackMsg()
        request.file_urls_request.request_id = uuid.uuid4().hex
        request.file_urls_request.file_names.append(name)
        request.file_urls_request.session_id = self.session_id
        self.ws.send(request.SerializeToString())
        urls = self._read_file_urls(request.file_urls_request.request_id)
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        put = urllib.request.Request(self.base_url + urls.upload_url, data=body, method="PUT",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        with urllib.request.urlopen(put, timeout=self.timeout):
            pass
        state = WidgetState(id=widget_id)
        info = state.file_uploader_state_value.uploaded_file_info.add()
        info.name, info.size, info.file_id = name, len(data), urls.file_id
        info.file_urls.CopyFrom(urls)
        return self.rerun(extra=[state])

    def _read_file_urls(self, request_id: str) -> FileURLs:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            msg = ForwardMsg()
            msg.ParseFromString(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if msg.WhichOneof("type") == "file_urls_response" and msg.file_urls_response.response_id == request_id:
                if msg.file_urls_response.error_msg:
                    raise RuntimeError(msg.file_urls_response.error_msg)
                return msg.file_urls_response.file_urls[0]
        raise TimeoutError("no upload URL from the server")

    def tick(self, fragment_id: str) -> RunResult:
        """What a browser's timer does for ``st.fragment(run_every=…)``: rerun that fragment only."""
        return self.rerun(fragment_id=fragment_id, auto=True)

    def rerun(self, page_name: str = "", extra: list[WidgetState] | None = None, fragment_id: str = "",
              auto: bool = False) -> RunResult:
        message = BackMsg()
        state = message.rerun_script
        state.page_script_hash = self.page_hash
        state.page_name = page_name
        state.fragment_id = fragment_id
        state.is_auto_rerun = auto
        state.query_string = self.query_string
        triggers = {w.id for w in extra or []}
        state.widget_states.widgets.extend([w for i, w in self.widget_values.items() if i not in triggers])
        state.widget_states.widgets.extend(extra or [])
        if not fragment_id:
            self.auto_reruns.clear()  # a full run: as a browser, forget the last page's fragment timers
        start = time.perf_counter()
        self.ws.send(message.SerializeToString())
        result = self._read_until_finished(start)
        for widget in extra or []:
            if widget.WhichOneof("value") != "trigger_value":
                self.widget_values[widget.id] = widget
        return result

    def _read_until_finished(self, start: float) -> RunResult:
        result = RunResult(seconds=0.0)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            raw = self.ws.recv(timeout=max(0.1, deadline - time.monotonic()))
            result.bytes_received += len(raw)
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "new_session":  # sent at the start of every run
                self.session_id = msg.new_session.initialize.session_id or self.session_id
                for page in msg.new_session.app_pages:
                    self.pages[page.url_pathname] = page.page_script_hash
                if not self.page_hash:
                    self.page_hash = msg.new_session.page_script_hash
            elif kind == "delta":
                self._read_delta(msg, result)
            elif kind == "auto_rerun":
                self.auto_reruns[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
            elif kind == "stop_auto_rerun":
                for stale in msg.stop_auto_rerun.fragment_ids or list(self.auto_reruns):
                    self.auto_reruns.pop(stale, None)
            elif kind == "navigation":  # st.navigation: the pages and the one shown (switch_page changes it)
                for page in msg.navigation.app_pages:
                    self.pages[page.url_pathname] = self.pages[page.page_name] = page.page_script_hash
                self.page_hash = msg.navigation.page_script_hash or self.page_hash
            elif kind == "script_finished":
                if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue  # st.rerun / switch_page: another run follows at once
                result.finished = True
                break
        result.seconds = time.perf_counter() - start
        return result

    @staticmethod
    def _read_delta(msg: ForwardMsg, result: RunResult) -> None:
        if msg.delta.WhichOneof("type") != "new_element":
            return
        element = msg.delta.new_element
        kind = element.WhichOneof("type")
        if kind == "exception":
            where = [line.strip() for line in element.exception.stack_trace if line.strip().startswith("File")]
            result.exceptions.append(f"{element.exception.type}: {element.exception.message}"
                                     + (f" ({' ← '.join(where[-1:-4:-1])})" if where else ""))
            return
        if kind in ("markdown", "alert", "text", "heading"):
            result.texts.append(getattr(element, kind).body)
            if kind == "alert":
                result.alerts.append(element.alert.body)
            if kind == "markdown" and element.markdown.allow_html:
                result.html.append(element.markdown.body)
            return
        if kind == "html":
            result.html.append(element.html.body)
            return
        if kind == "iframe":
            result.html.append(element.iframe.srcdoc or element.iframe.src)
            return
        if kind == "progress":
            result.progress.append(element.progress.text)
            return
        widget = getattr(element, kind, None)
        widget_id = getattr(widget, "id", "") if widget is not None else ""
        if widget_id.startswith("$$ID-"):
            key = widget_id.split("-", 2)[2] if widget_id.count("-") >= 2 else ""
            if key and key != "None":
                result.widgets[key] = (kind, widget_id)
                if msg.delta.fragment_id:
                    result.fragment_of[key] = msg.delta.fragment_id
