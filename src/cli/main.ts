// `switchboard`: every command, each registered from its own file.
import { registerAdminCommands } from "./admin-commands.js";
import { registerCallCommand } from "./call.js";
import { registerCallsCommand } from "./calls.js";
import { registerLoadCommand } from "./load.js";
import { registerNatsUsersCommand } from "./nats-users.js";
import { createProgram, exitQuietlyOnClosedPipe, pointUsageErrorsAtHelp } from "./program.js";
import { registerServiceCommands } from "./service-commands.js";
import { registerSipCommand } from "./sip.js";
import { registerSipUsersCommands } from "./sip-users.js";
import { registerTraceCommand } from "./trace.js";
import { registerUpCommand } from "./up.js";

exitQuietlyOnClosedPipe();
const program = createProgram();

registerUpCommand(program);
registerServiceCommands(program);
registerSipCommand(program);
registerSipUsersCommands(program);
registerAdminCommands(program);
registerCallCommand(program);
registerCallsCommand(program);
registerTraceCommand(program);
registerLoadCommand(program);
registerNatsUsersCommand(program);
pointUsageErrorsAtHelp(program);

await program.parseAsync(process.argv);
