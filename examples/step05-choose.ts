// Step 5: choose(): wait on several channel operations, perform the first that can complete.
import {
  type Chan,
  CHRECV,
  CHSEND,
  type ChooseClause,
  choose,
  chmake,
  chrecv,
  chsend,
  DillError,
  go,
  hclose,
  msleep,
  now,
  run,
} from "tsdill";

function* numbers(ch: Chan<number>) {
  for (let i = 1; i <= 3; i++) {
    yield* msleep(now() + 10);
    yield* chsend(ch, i, -1);
  }
}

function* quitter(ch: Chan<string>) {
  yield* msleep(now() + 300); // well after the three numbers
  yield* chsend(ch, "stop", -1);
}

function* listener(ch: Chan<string>) {
  const v = yield* chrecv(ch, -1);
  console.log(`listener: received "${v}" through a CHSEND clause`);
}

await run(function* main() {
  const [data0, data1] = chmake<number>();
  const [quit0, quit1] = chmake<string>();
  const crs = [go(numbers(data0)), go(quitter(quit0))];
  const clauses: ChooseClause[] = [
    { op: CHRECV, ch: data1 },
    { op: CHRECV, ch: quit1 },
  ];
  for (;;) {
    const i = yield* choose(clauses, now() + 1000);
    if (i === 0) console.log(`data: ${clauses[0]!.val}`);
    else {
      console.log(`quit: ${clauses[1]!.val}`);
      break;
    }
  }

  // Nothing is ready and the deadline passes: ETIMEDOUT.
  try {
    yield* choose(clauses, now() + 20);
  } catch (e) {
    console.log(`choose with nothing ready: ${(e as DillError).code}`);
  }

  // A send clause, and the earliest ready clause wins.
  const [x0, x1] = chmake<string>();
  const l = go(listener(x1));
  yield* msleep(now() + 10); // let the listener park in chrecv
  const i = yield* choose(
    [
      { op: CHRECV, ch: data1 },
      { op: CHSEND, ch: x0, val: "hi" },
    ],
    -1,
  );
  console.log(`choose performed clause ${i}`);
  yield* msleep(0);

  // A bad handle fails the whole call; the error names the clause.
  try {
    yield* choose(
      [
        { op: CHRECV, ch: data1 },
        { op: CHRECV, ch: 999 },
      ],
      0,
    );
  } catch (e) {
    console.log(`bad handle in clause ${(e as DillError).index}: ${(e as DillError).code}`);
  }
  for (const h of [...crs, l, data0, data1, quit0, quit1, x0, x1]) hclose(h);
});
