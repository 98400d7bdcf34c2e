import test from 'ava';
import { DataError } from '../../../src/data/errors.js';
import { parseClothesJson } from '../../../src/node/data/fashion-mnist-json.js';

const enc = (s: string) => new TextEncoder().encode(s);
const img = (seed: number) => Array.from({ length: 784 }, (_, p) => (seed * 31 + p) % 256);

test('the package layout: pixels in order, empty entries dropped', (t) => {
  const text = `{"data":[${JSON.stringify(img(1))},[],${JSON.stringify(img(2))}]}`;
  const parsed = parseClothesJson(enc(text), 'x.json');
  t.is(parsed.count, 2);
  t.is(parsed.emptyEntries, 1);
  t.deepEqual(Array.from(parsed.images), [...img(1), ...img(2)]);
});

test('whitespace and unusual but valid JSON fall back to JSON.parse with the same result', (t) => {
  const pretty = JSON.stringify({ data: [img(3), [], img(4)] }, null, 2);
  const a = parseClothesJson(enc(pretty), 'pretty.json');
  t.deepEqual(Array.from(a.images), [...img(3), ...img(4)]);
  t.is(a.emptyEntries, 1);
  const withOther = JSON.stringify({ meta: 'x', data: [img(5)] });
  t.deepEqual(Array.from(parseClothesJson(enc(withOther), 'other.json').images), img(5));
  const floats = JSON.stringify({ data: [img(6).map((v) => v + 0)] }).replace('[[', '[[0.0,').replace(',0,', ',');
  t.notThrows(() => parseClothesJson(enc(floats), 'floats.json'));
});

test('bad content is a DataError naming the file', (t) => {
  const short = `{"data":[[1,2,3]]}`;
  t.regex(t.throws(() => parseClothesJson(enc(short), 'short.json'), { instanceOf: DataError })!.message, /short\.json: entry 0 has 3 values, expected 784/);
  const big = `{"data":[[${[300, ...img(0).slice(1)].join(',')}]]}`;
  t.regex(t.throws(() => parseClothesJson(enc(big), 'big.json'), { instanceOf: DataError })!.message, /big\.json: .*above 255/);
  const long = `{"data":[[${[...img(0), 1].join(',')}]]}`;
  t.regex(t.throws(() => parseClothesJson(enc(long), 'long.json'))!.message, /long\.json: entry 0 has more than 784/);
  const fraction = `{"data":[[${[0.5, ...img(0).slice(1)].join(',')}]]}`;
  t.regex(t.throws(() => parseClothesJson(enc(fraction), 'frac.json'))!.message, /frac\.json: entry 0: value 0\.5 at 0/);
  t.regex(t.throws(() => parseClothesJson(enc('{"data":[[1,2'), 'cut.json'))!.message, /cut\.json: not valid JSON/);
  t.regex(t.throws(() => parseClothesJson(enc('{"images":[]}'), 'key.json'))!.message, /key\.json: expected an object with a "data" array/);
});
