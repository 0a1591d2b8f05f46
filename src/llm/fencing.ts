import { randomBytes } from "node:crypto";
import { promptFence, type PromptFence } from "../core/llm/fence.js";

/** The fence of one prompt whose untrusted parts are `texts`, with a random marker (48 bits: mail cannot guess it). */
export function fenceFor(texts: string[]): PromptFence {
  return promptFence(texts, () => randomBytes(6).toString("hex"));
}
