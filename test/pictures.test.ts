/**
 * The diagrams in docs/pictures/ are drawn from traces of the tutorial's example programs
 * (`npm run pictures`): drawn again here, they must match the committed files, so that no picture
 * drifts from the program it shows.
 */
import { describe, expect, it } from "vitest";
import { PICTURES, stale } from "../scripts/pictures.js";

describe("the pictures of the tutorial and the architecture page", () => {
  it("match what their example programs draw now (npm run pictures redraws them)", () => {
    expect(PICTURES.length).toBeGreaterThan(0);
    expect(stale()).toEqual([]);
  }, 90_000);
});
