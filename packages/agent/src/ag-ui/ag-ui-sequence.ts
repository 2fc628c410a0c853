/** An AG-UI event after its schema check: its type and the fields the order rules read. */
export interface AgUiEventFields {
  type: string;
  messageId?: string;
  toolCallId?: string;
}

/**
 * The order AG-UI events must come in (the rules `@ag-ui/client`'s verifier enforces on the receiving side):
 * RUN_STARTED first and once; nothing after RUN_FINISHED or RUN_ERROR; content only inside a started and not
 * yet ended message (text or reasoning); tool call args and end only for a started call, a result only for a
 * call that was started, once; a run finishes with no message or tool call left open. `check` says why an
 * event breaks them (and changes nothing), or accepts it.
 */
export class AgUiSequence {
  private started = false;
  private ended = false;
  private readonly openText = new Set<string>();
  private readonly openReasoning = new Set<string>();
  private readonly openCalls = new Set<string>();
  private readonly calls = new Set<string>();
  private readonly results = new Set<string>();

  check(e: AgUiEventFields): string | null {
    const why = this.problem(e);
    if (why === null) this.apply(e);
    return why;
  }

  private problem(e: AgUiEventFields): string | null {
    if (this.ended) return `${e.type} after the run ended`;
    if (!this.started) return e.type === "RUN_STARTED" ? null : `${e.type} before RUN_STARTED`;
    const m = e.messageId ?? "";
    const t = e.toolCallId ?? "";
    switch (e.type) {
      case "RUN_STARTED":
        return "a second RUN_STARTED";
      case "TEXT_MESSAGE_START":
        return this.openText.has(m) ? `text message ${m} is already open` : null;
      case "TEXT_MESSAGE_CONTENT":
      case "TEXT_MESSAGE_END":
        return this.openText.has(m) ? null : `${e.type} for text message ${m}, which is not open`;
      case "REASONING_MESSAGE_START":
        return this.openReasoning.has(m) ? `reasoning message ${m} is already open` : null;
      case "REASONING_MESSAGE_CONTENT":
      case "REASONING_MESSAGE_END":
        return this.openReasoning.has(m) ? null : `${e.type} for reasoning message ${m}, which is not open`;
      case "TOOL_CALL_START":
        return this.calls.has(t) ? `tool call ${t} was already started` : null;
      case "TOOL_CALL_ARGS":
      case "TOOL_CALL_END":
        return this.openCalls.has(t) ? null : `${e.type} for tool call ${t}, which is not open`;
      case "TOOL_CALL_RESULT":
        if (!this.calls.has(t)) return `TOOL_CALL_RESULT for tool call ${t}, which was never started`;
        if (this.openCalls.has(t)) return `TOOL_CALL_RESULT for tool call ${t} before its TOOL_CALL_END`;
        return this.results.has(t) ? `a second TOOL_CALL_RESULT for tool call ${t}` : null;
      case "RUN_FINISHED": {
        const open = [...this.openText, ...this.openReasoning, ...this.openCalls];
        return open.length > 0 ? `RUN_FINISHED with ${open.join(", ")} still open` : null;
      }
      default:
        return null;
    }
  }

  private apply(e: AgUiEventFields): void {
    const m = e.messageId ?? "";
    const t = e.toolCallId ?? "";
    switch (e.type) {
      case "RUN_STARTED":
        this.started = true;
        break;
      case "RUN_FINISHED":
      case "RUN_ERROR":
        this.ended = true;
        break;
      case "TEXT_MESSAGE_START":
        this.openText.add(m);
        break;
      case "TEXT_MESSAGE_END":
        this.openText.delete(m);
        break;
      case "REASONING_MESSAGE_START":
        this.openReasoning.add(m);
        break;
      case "REASONING_MESSAGE_END":
        this.openReasoning.delete(m);
        break;
      case "TOOL_CALL_START":
        this.calls.add(t);
        this.openCalls.add(t);
        break;
      case "TOOL_CALL_END":
        this.openCalls.delete(t);
        break;
      case "TOOL_CALL_RESULT":
        this.results.add(t);
        break;
    }
  }
}
