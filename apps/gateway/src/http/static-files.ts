import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import { pipeline } from "node:stream";
import type { Logger } from "pino";
import { decodePathSegment } from "./request-input.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};

/** Never blocks on a FIFO; no effect on regular files. */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/**
 * Serves a built single-page app (the web console) from `root`: files as they are (hashed assets
 * cached for a year), any other GET path → index.html. Paths cannot leave `root`; a path that is not
 * valid percent-encoding names no file. Resolves false when it did not handle the request (→ 404).
 *
 * The file is opened before anything is sent and served from that descriptor (removing or replacing it
 * meanwhile changes nothing); a read that fails after the headers went out cuts the response short and
 * is logged — it never reaches the process as an unhandled error.
 */
export function createStaticFiles(root: string, logger: Logger) {
  const base = normalize(root + sep);
  return async (req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const decoded = decodePathSegment(pathname);
    if (decoded === undefined) return false;
    const requested = normalize(join(base, decoded));
    if (!requested.startsWith(base)) return false;
    let file = await openFile(requested);
    if (!file && !extname(decoded)) file = await openFile(join(base, "index.html")); // a missing asset is a 404, not the app
    if (!file) return false;
    const { path, handle, size } = file;
    res.writeHead(200, {
      "content-type": TYPES[extname(path)] ?? "application/octet-stream",
      "content-length": size,
      "cache-control": path.includes(`${sep}assets${sep}`) ? "public, max-age=31536000, immutable" : "no-cache",
      "x-content-type-options": "nosniff",
    });
    if (req.method === "HEAD" || size === 0) {
      res.end();
      await handle.close();
      return true;
    }
    // Exactly the bytes announced, even if the file grew since. On any failure `pipeline` destroys both
    // streams (the descriptor is closed, the response cut short).
    pipeline(handle.createReadStream({ start: 0, end: size - 1 }), res, (err) => {
      const clientLeft = (err as NodeJS.ErrnoException | undefined)?.code === "ERR_STREAM_PREMATURE_CLOSE";
      if (err && !clientLeft) logger.warn({ err: err.message, path: req.url }, "static file read failed after headers");
    });
    return true;
  };
}

/** The regular file at `path`, opened; undefined when there is none or it cannot be opened. */
async function openFile(path: string): Promise<{ path: string; handle: FileHandle; size: number } | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch {
    return undefined; // missing, unreadable, a dangling link: no file to serve
  }
  try {
    const info = await handle.stat();
    if (info.isFile()) return { path, handle, size: info.size };
  } catch {
    // fall through: not servable
  }
  await handle.close();
  return undefined;
}
