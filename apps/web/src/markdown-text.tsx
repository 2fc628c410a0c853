import { memo } from "react";
import Markdown from "react-markdown";

/** While a run streams, a last block longer than this is shown as plain text (parsed once it is done). */
const LIVE_PARSE_LIMIT = 4_000;

/**
 * Splits markdown at blank lines outside fenced code, so a growing answer re-parses only its last block
 * (the finished ones are memoised by their text).
 */
export function markdownBlocks(text: string): string[] {
  const blocks: string[] = [];
  let start = 0;
  let fenced = false;
  const lines = text.split("\n");
  let offset = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const end = offset + line.length;
    if (!fenced && line.trim() === "" && end > start) {
      blocks.push(text.slice(start, end));
      start = end + 1;
    }
    offset = end + 1;
  }
  if (start < text.length) blocks.push(text.slice(start));
  return blocks.filter((b) => b.trim() !== "");
}

/**
 * One block of model output as markdown. Safe by construction: react-markdown builds React elements (no
 * innerHTML); raw HTML in the text is shown as text, and `javascript:` and other unsafe URLs are dropped.
 */
const Block = memo(function Block({ text }: { text: string }) {
  return <Markdown>{text}</Markdown>;
});

/** A streamed answer rendered as markdown, block by block. */
export function MarkdownText({ text, streaming }: { text: string; streaming: boolean }) {
  const blocks = markdownBlocks(text);
  const last = blocks.length - 1;
  return (
    <div className="markdown">
      {blocks.map((b, i) =>
        streaming && i === last && b.length > LIVE_PARSE_LIMIT ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: blocks only grow at the end; an index is their identity
          <p key={i} className="plain">
            {b}
          </p>
        ) : (
          // biome-ignore lint/suspicious/noArrayIndexKey: as above
          <Block key={i} text={b} />
        ),
      )}
    </div>
  );
}
