/**
 * The `data` of each server-sent event in a response body, as the SSE spec frames them (a blank line ends
 * an event, `data:` lines join with newlines, comments and other fields are skipped, an unfinished event at the
 * end is dropped). At most `maxEventBytes`
 * per event: a longer one throws (a remote that never ends a frame must not fill the worker's memory).
 */
export async function* sseData(body: ReadableStream<Uint8Array>, maxEventBytes = 4 * 1024 * 1024): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  let data: string[] = [];
  let size = 0;
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl = buffer.search(/\r\n|\r|\n/);
    while (nl >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + (buffer.startsWith("\r\n", nl) ? 2 : 1));
      if (line === "") {
        if (data.length > 0) yield data.join("\n");
        data = [];
        size = 0;
      } else if (line.startsWith("data:")) {
        const value = line.slice(5).replace(/^ /, "");
        size += value.length;
        if (size > maxEventBytes) throw new Error(`an event is larger than ${maxEventBytes} bytes`);
        data.push(value);
      }
      nl = buffer.search(/\r\n|\r|\n/);
    }
    if (buffer.length > maxEventBytes) throw new Error(`a line is longer than ${maxEventBytes} bytes`);
  }
  // An event not ended by a blank line when the stream ends is discarded, as the SSE spec says.
}
