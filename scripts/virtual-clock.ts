/** Loaded before a program by `npm run pictures`: the virtual clock, so that its trace is the same every run. */
import { dill_configure } from "tsdill";

dill_configure({ clock: "virtual" });
