// `switchboard`: every command, each registered from its own file.
import { Command } from "commander";
import { registerAdminCommands } from "./admin-commands.js";
import { registerCallCommand } from "./call.js";
import { registerCallsCommand } from "./calls.js";
import { registerLoadCommand } from "./load.js";
import { registerServiceCommands } from "./service-commands.js";
import { registerSipCommand } from "./sip.js";
import { registerTraceCommand } from "./trace.js";
import { registerUpCommand } from "./up.js";

const program = new Command("switchboard")
  .description("an open-source, Twilio-compatible call engine over NATS")
  .showHelpAfterError()
  .enablePositionalOptions();

registerUpCommand(program);
registerServiceCommands(program);
registerSipCommand(program);
registerAdminCommands(program);
registerCallCommand(program);
registerCallsCommand(program);
registerTraceCommand(program);
registerLoadCommand(program);

await program.parseAsync(process.argv);
