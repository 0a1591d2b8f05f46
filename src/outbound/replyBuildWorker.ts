// Worker-thread side of replyBuilder(): composes replies and checks their bytes off the main thread.
import { serveTasks } from "../pipeline/threadTask.js";
import { runBuildTask } from "./replyBuilder.js";

serveTasks(runBuildTask);
