// The operators' commands, each group in its own file: `accounts`, `caller-ids`, `numbers`, `trunks`.
import type { Command } from "commander";
import { registerAccountCommands } from "./accounts.js";
import { registerCallerIdCommands } from "./caller-ids.js";
import { registerNumberCommands } from "./numbers.js";
import { registerTrunkCommands } from "./trunks.js";

export function registerAdminCommands(program: Command): void {
  registerAccountCommands(program);
  registerCallerIdCommands(program);
  registerNumberCommands(program);
  registerTrunkCommands(program);
}
