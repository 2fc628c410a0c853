import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, normalize, sep } from "node:path";

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

/**
 * Serves a built single-page app (the web console) from `root`: files as they are (hashed assets
 * cached for a year), any other GET path → index.html. Paths cannot leave `root`.
 * Resolves false when it did not handle the request.
 */
export function createStaticFiles(root: string) {
  const base = normalize(root + sep);
  return async (req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    let file = normalize(join(base, decodeURIComponent(pathname)));
    if (!file.startsWith(base)) return false;
    let info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) {
      if (extname(pathname)) return false; // a missing asset is a 404, not the app
      file = join(base, "index.html");
      info = await stat(file).catch(() => undefined);
      if (!info?.isFile()) return false;
    }
    const immutable = file.includes(`${sep}assets${sep}`);
    res.writeHead(200, {
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      "content-length": info.size,
      "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
      "x-content-type-options": "nosniff",
    });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
    return true;
  };
}
