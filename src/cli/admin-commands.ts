// The operators' commands, each group in its own file: `accounts`, `numbers`, `trunks`.
import type { Command } from "commander";
import { registerAccountCommands } from "./accounts.js";
import { registerNumberCommands } from "./numbers.js";
import { registerTrunkCommands } from "./trunks.js";

export function registerAdminCommands(program: Command): void {
  registerAccountCommands(program);
  registerNumberCommands(program);
  registerTrunkCommands(program);
}
