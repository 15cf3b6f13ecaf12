// http_worker (the seed's example): GETs $API_URL and returns what came back.
// `fetch` is wasi:http/outgoing-handler underneath; while the response is on its way
// the process is suspended and every other process runs.
import { getEnvironment } from "wasi:cli/environment@0.2.12";

async function get() {
  const url = new Map(getEnvironment()).get("API_URL");
  if (!url) throw new Error("API_URL is not set");
  const response = await fetch(url);
  const body = await response.text();
  return `GET ${url} -> ${response.status} ${response.statusText} (${body.length} bytes): ${body.slice(0, 200)}`;
}

// run: result<string, string>. What is thrown becomes the `err` (a string: the WIT
// type), which the runtime turns into an EXIT of kind `exit` with this message.
export async function run() {
  try {
    return await get();
  } catch (err) {
    const cause = err instanceof Error && err.cause ? ` (${err.cause})` : "";
    throw err instanceof Error ? `${err.message}${cause}` : String(err);
  }
}
