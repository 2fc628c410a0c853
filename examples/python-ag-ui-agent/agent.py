#!/usr/bin/env python3
"""A small AG-UI agent in Python's standard library only (no packages).

It speaks AG-UI over HTTP: POST a RunAgentInput, get the run back as server-sent events. Run it under
agentcast with AGENT=ag-ui AGENT_URL=http://127.0.0.1:8000/ and every browser watching the task gets
durable, resumable, horizontally scaled delivery of what it streams.

What it does with the last user message: thinks aloud (streamed reasoning), calls a calculator tool when
the message holds an arithmetic expression, reports progress (a CUSTOM agentcast.progress event), then
streams its answer word by word. A message with /ask first asks the user a question (an AG-UI interrupt);
the answer comes back on the next request as a `resume` entry.

    python3 agent.py [port]        # port 0 picks a free one; it prints the address it listens on
    AGENT_WORD_DELAY_MS=30         # pause between streamed words
"""

import ast
import json
import operator
import os
import re
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WORD_DELAY = int(os.environ.get("AGENT_WORD_DELAY_MS", "30")) / 1000.0
OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
             ast.Pow: operator.pow, ast.USub: operator.neg, ast.UAdd: operator.pos}
EXPRESSION = re.compile(r"[-+*/().\d\s^]*\d[-+*/().\d\s^]*[-+*/^][-+*/().\d\s^]*\d[-+*/().\d\s^]*")


def calculate(expression):
    """Evaluates + - * / ** on numbers, nothing else (no names, no calls)."""
    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
            return OPERATORS[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in OPERATORS:
            return OPERATORS[type(node.op)](walk(node.operand))
        raise ValueError("not arithmetic")
    value = walk(ast.parse(expression.replace("^", "**"), mode="eval"))
    return int(value) if isinstance(value, float) and value.is_integer() else value


def text_of(message):
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if part.get("type") == "text")
    return ""


class ClientGone(Exception):
    pass


class Run:
    """One response: writes AG-UI events as SSE frames, flushed one by one."""

    def __init__(self, handler, thread_id, run_id):
        self.handler, self.thread_id, self.run_id = handler, thread_id, run_id

    def emit(self, event_type, **fields):
        frame = "data: " + json.dumps({"type": event_type, "timestamp": int(time.time() * 1000), **fields}) + "\n\n"
        try:
            self.handler.wfile.write(frame.encode("utf-8"))
            self.handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError) as err:
            raise ClientGone() from err

    def stream_text(self, text, start, content, end, **ids):
        self.emit(start, **ids, **({"role": "assistant"} if start == "TEXT_MESSAGE_START" else {"role": "reasoning"}))
        for i, word in enumerate(text.split(" ")):
            self.emit(content, **ids, delta=word if i == 0 else " " + word)
            time.sleep(WORD_DELAY)
        self.emit(end, **ids)


def run_agent(run, body):
    messages = body.get("messages") or []
    user = [m for m in messages if m.get("role") == "user"]
    question = text_of(user[-1]) if user else ""
    turn = len(user)
    run.emit("RUN_STARTED", threadId=run.thread_id, runId=run.run_id)

    resumed = body.get("resume") or []
    if resumed:
        answer = str(resumed[0].get("payload", ""))
        reply = f'Thanks. You said "{answer}", so that is settled.'
        run.stream_text(reply, "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", messageId=str(uuid.uuid4()))
        run.emit("RUN_FINISHED", threadId=run.thread_id, runId=run.run_id, outcome={"type": "success"}, result={"answer": reply})
        return

    reasoning_id = str(uuid.uuid4())
    run.emit("REASONING_START", messageId=reasoning_id)
    run.stream_text(f"Turn {turn}: reading the request and deciding whether it needs the calculator.",
                    "REASONING_MESSAGE_START", "REASONING_MESSAGE_CONTENT", "REASONING_MESSAGE_END", messageId=reasoning_id)
    run.emit("REASONING_END", messageId=reasoning_id)
    run.emit("CUSTOM", name="agentcast.progress", value={"percent": 20, "message": "Thinking done"})

    match = EXPRESSION.search(question.replace("/ask", ""))
    answer = "I can only do arithmetic; try something like 6*7."
    if match:
        expression = match.group(0).strip()
        call_id = "call_" + uuid.uuid4().hex[:8]
        run.emit("TOOL_CALL_START", toolCallId=call_id, toolCallName="calculator")
        run.emit("TOOL_CALL_ARGS", toolCallId=call_id, delta=json.dumps({"expression": expression}))
        run.emit("TOOL_CALL_END", toolCallId=call_id)
        try:
            result = calculate(expression)
            run.emit("TOOL_CALL_RESULT", messageId=str(uuid.uuid4()), toolCallId=call_id, content=json.dumps(result), role="tool")
            answer = f"{expression} = {result}."
        except (ValueError, SyntaxError, ZeroDivisionError) as err:
            run.emit("TOOL_CALL_RESULT", messageId=str(uuid.uuid4()), toolCallId=call_id, content=f"error: {err}", role="tool")
            answer = f"I could not calculate {expression}: {err}."
    run.emit("CUSTOM", name="agentcast.progress", value={"percent": 70, "message": "Writing the answer"})
    run.stream_text(f"Python here. {answer}", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END",
                    messageId=str(uuid.uuid4()))
    if "/ask" in question:
        interrupt = {"id": "int_" + uuid.uuid4().hex[:8], "reason": "input_required",
                     "message": "Should I show my working next time?"}
        run.emit("RUN_FINISHED", threadId=run.thread_id, runId=run.run_id, outcome={"type": "interrupt", "interrupts": [interrupt]})
        return
    run.emit("RUN_FINISHED", threadId=run.thread_id, runId=run.run_id, outcome={"type": "success"}, result={"answer": answer})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
            thread_id, run_id = str(body["threadId"]), str(body["runId"])
        except (ValueError, KeyError, TypeError):
            error = b'{"error":"expected a RunAgentInput with threadId and runId"}'
            self.send_response(400)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(error)))
            self.end_headers()
            self.wfile.write(error)
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            run_agent(Run(self, thread_id, run_id), body)
            print(json.dumps({"msg": "run finished", "threadId": thread_id, "runId": run_id}), flush=True)
        except ClientGone:
            print(json.dumps({"msg": "client went away", "threadId": thread_id, "runId": run_id}), flush=True)

    def log_message(self, fmt, *args):
        pass  # one JSON line per run instead (above)


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("PORT", "8000"))
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print(json.dumps({"msg": "listening", "url": f"http://127.0.0.1:{server.server_address[1]}/"}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
