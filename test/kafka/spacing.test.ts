import assert from "node:assert/strict";
import { test } from "node:test";
import { CostSpacing } from "../../src/kafka/spacing.ts";

test("CostSpacing: after a run that cost c ms, the next is due c / share ms later", () => {
  const s = new CostSpacing(0.05);
  assert.equal(s.due(1000), true, "due before any run");
  s.ran(50, 1000); // 50 ms of cost at 5 %: 1 s until the next
  assert.equal(s.due(1999), false);
  assert.equal(s.due(2000), true);
  s.ran(0.1, 2000); // cheap runs go at their own interval
  assert.equal(s.due(2002), true);
});
