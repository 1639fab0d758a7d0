// Step 4: channels. Unbuffered: a send completes only when a receiver takes the value.
import { type Chan, chdone, chmake, chrecv, chsend, DillError, go, hclose, isDillError, now, run } from "tsdill";

function* producer(ch: Chan<string>) {
  for (const word of ["one", "two", "three"]) {
    console.log(`producer: sending ${word}`);
    yield* chsend(ch, word, -1); // waits here until the consumer receives
    console.log(`producer: ${word} was taken`);
  }
  chdone(ch); // no more values: the other end's receives now fail with EPIPE
  const reply = yield* chrecv(ch, -1); // the channel is bidirectional
  console.log(`producer: consumer replied "${reply}"`);
}

await run(function* main() {
  const [a, b] = chmake<string>(); // what is sent on a is received on b, and back
  const cr = go(producer(a));
  let count = 0;
  for (;;) {
    try {
      const word = yield* chrecv(b, now() + 1000);
      console.log(`consumer: got ${word}`);
      count++;
    } catch (e) {
      if (!isDillError(e, "EPIPE")) throw e;
      console.log(`consumer: ${e.code}, end of stream`);
      break;
    }
  }
  yield* chsend(b, `thanks for ${count} words`, now() + 1000);
  try {
    yield* chsend(a, "more", 0);
  } catch (e) {
    console.log(`sending on a done end: ${(e as DillError).code}`);
  }
  hclose(cr);
  hclose(a);
  hclose(b);
});
