// host_node.mjs -- the V8 runner of the benchmark suite: a host of the
// wasmudf guest ABI v1 (docs/abi.md) on Node.js's WebAssembly (V8), running
// the same .wasm over the same data as the wasmudf runner; no npm package.
//
//   node host_node.mjs PLAN      (the plan format of bench/suite/runner.c)
//
// The same protocol as host_wasmtime.py, step for step (see there and
// abi_image.py): WASI preview1 from node:wasi (no preopens), `_initialize`
// through wasi.initialize, output slots and control block allocated once;
// per call wudf_alloc of the input block, the batch copied in and relocated
// (its layout walked once per data set), the export, the input's release
// and free, the result copied out into host bytes in the format of
// wudf_array_serialize and released; INPUT/CONTINUE for a table function,
// UPDATE/FINISH/FREE for an aggregate. A failed call throws with the
// guest's message; a strict function given top-level nulls is refused.
import { readFileSync, writeFileSync } from "node:fs";
import { WASI } from "node:wasi";

const ARRAY_SIZE = 64, SCHEMA_SIZE = 48, MAGIC = 0x46445557;
const MORE = 1, MAX_OUTPUT_ROWS = 65536n;
const OPS = { INPUT: 1, CONTINUE: 2, UPDATE: 1, FINISH: 4, FREE: 5 };
const WIDTHS = { c: 1, C: 1, s: 2, S: 2, i: 4, I: 4, l: 8, L: 8, e: 2, f: 4, g: 8, tdD: 4, tdm: 8 };

const u32 = (view, at) => view.getUint32(at, true);
const i64 = (view, at) => Number(view.getBigInt64(at, true));
function cstr(bytes, at) {
  let end = at;
  while (bytes[end] !== 0) end++;
  return Buffer.from(bytes.buffer, bytes.byteOffset + at, end - at).toString();
}

// The serialized argument batch, walked once (abi_image.InputTemplate).
export class InputTemplate {
  constructor(data) {
    this.data = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const view = new DataView(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    if (Buffer.from(this.data.subarray(0, 7)).toString() !== "WUDFARR") {
      throw new Error("not wudf_array_serialize bytes");
    }
    this.arrayAt = u32(view, 8);
    this.schemaAt = u32(view, 12);
    this.pointers = [];
    this.arrays = [];
    this.schemas = [];
    const pointer = (at) => {
      const value = u32(view, at);
      if (value !== 0) this.pointers.push(at);
      return value;
    };
    const walkArray = (at) => {
      this.arrays.push(at);
      const buffers = pointer(at + 40);
      for (let i = 0; i < i64(view, at + 24); i++) pointer(buffers + 4 * i);
      const children = pointer(at + 44);
      for (let i = 0; i < i64(view, at + 32); i++) walkArray(pointer(children + 4 * i));
      const dictionary = pointer(at + 48);
      if (dictionary) walkArray(dictionary);
    };
    const walkSchema = (at) => {
      this.schemas.push(at);
      for (const field of [0, 4, 8]) pointer(at + field);
      const children = pointer(at + 32);
      for (let i = 0; i < i64(view, at + 24); i++) walkSchema(pointer(children + 4 * i));
      const dictionary = pointer(at + 36);
      if (dictionary) walkSchema(dictionary);
    };
    walkArray(this.arrayAt);
    walkSchema(this.schemaAt);
    const children = u32(view, this.arrayAt + 44);
    this.topNulls = false;
    for (let i = 0; i < i64(view, this.arrayAt + 32); i++) {
      if (i64(view, u32(view, children + 4 * i) + 8) !== 0) this.topNulls = true;
    }
    this.pointerValues = this.pointers.map((at) => u32(view, at));
  }

  // Writes the batch at `block` of guest memory as an input block (section 4).
  place(bytes, view, block, arrayRelease, schemaRelease) {
    bytes.set(this.data, block);
    for (let i = 0; i < this.pointers.length; i++) {
      view.setUint32(block + this.pointers[i], this.pointerValues[i] + block, true);
    }
    for (const at of this.arrays) {
      view.setUint32(block + at + 52, arrayRelease, true);
      view.setUint32(block + at + 56, block, true);
    }
    for (const at of this.schemas) {
      view.setUint32(block + at + 40, schemaRelease, true);
      view.setUint32(block + at + 44, block, true);
    }
    view.setUint32(block, this.arrays.length + this.schemas.length + 1, true);
    view.setUint32(block + 4, MAGIC, true);
    view.setBigUint64(block + 8, 0n, true);
    return [block + this.arrayAt, block + this.schemaAt];
  }
}

// The byte sizes of a guest array's buffers, from its format.
function bufferSizes(view, fmt, array) {
  const length = i64(view, array), offset = i64(view, array + 16), end = offset + length;
  const nBuffers = i64(view, array + 24), buffers = u32(view, array + 40);
  const validity = Math.ceil(end / 8);
  if (fmt === "b") return [validity, validity];
  if (fmt in WIDTHS) return [validity, end * WIDTHS[fmt]];
  if (fmt.startsWith("d:")) {
    const parts = fmt.split(",");
    return [validity, (end * (parts.length === 3 ? Number(parts[2]) : 128)) / 8];
  }
  if (fmt === "u" || fmt === "z") {
    const offsets = u32(view, buffers + 4);
    return [validity, (end + 1) * 4, offsets ? view.getInt32(offsets + 4 * end, true) : 0];
  }
  if (fmt === "+l") return [validity, (end + 1) * 4];
  if (fmt === "+s") return [validity, ...new Array(nBuffers - 1).fill(0)];
  throw new Error(`copy_out: format '${fmt}' is not supported by this host`);
}

// Copies a result out of guest memory into host bytes (abi_image.copy_out).
export function copyOut(bytes, view, array, schema) {
  let size = 16;
  const copies = [], writes = [];
  const reserve = (n, align) => {
    const at = (size + align - 1) & ~(align - 1);
    size = at + n;
    return at;
  };
  const put = (data) => {
    const at = reserve(data.length, 8);
    writes.push([at, data]);
    return at;
  };
  const words = (values) => {
    const data = new Uint8Array(4 * values.length);
    const dv = new DataView(data.buffer);
    values.forEach((v, i) => dv.setUint32(4 * i, v, true));
    return data;
  };
  const text = (s) => Buffer.concat([Buffer.from(s), Buffer.from([0])]);
  const copySchema = (s) => {
    const fmt = cstr(bytes, u32(view, s));
    const namePtr = u32(view, s + 4), n = i64(view, s + 24);
    const children = [];
    for (let i = 0; i < n; i++) children.push(copySchema(u32(view, u32(view, s + 32) + 4 * i)));
    const dictionary = u32(view, s + 36);
    const dictionaryAt = dictionary ? copySchema(dictionary) : 0;
    const formatAt = put(text(fmt));
    const nameAt = namePtr ? put(text(cstr(bytes, namePtr))) : 0;
    const childrenAt = children.length ? put(words(children)) : 0;
    const struct = new Uint8Array(SCHEMA_SIZE);
    const dv = new DataView(struct.buffer);
    dv.setUint32(0, formatAt, true);
    dv.setUint32(4, nameAt, true);
    dv.setBigInt64(16, view.getBigInt64(s + 16, true), true);
    dv.setBigInt64(24, BigInt(n), true);
    dv.setUint32(32, childrenAt, true);
    dv.setUint32(36, dictionaryAt, true);
    dv.setUint32(40, 1, true);
    return put(struct);
  };
  const copyArray = (a, s) => {
    const fmt = cstr(bytes, u32(view, s));
    const sizes = bufferSizes(view, fmt, a);
    const nBuffers = i64(view, a + 24), nChildren = i64(view, a + 32);
    if (sizes.length !== nBuffers) throw new Error(`copy_out: '${fmt}' with ${nBuffers} buffers`);
    const buffers = u32(view, a + 40);
    const bufferAts = sizes.map((n, i) => {
      const source = u32(view, buffers + 4 * i);
      if (source === 0) return 0;
      const at = reserve(n, 64);
      copies.push([at, source, n]);
      return at;
    });
    const children = [];
    for (let i = 0; i < nChildren; i++) {
      children.push(copyArray(u32(view, u32(view, a + 44) + 4 * i),
                              u32(view, u32(view, s + 32) + 4 * i)));
    }
    const dictionary = u32(view, a + 48);
    const dictionaryAt = dictionary ? copyArray(dictionary, u32(view, s + 36)) : 0;
    const buffersAt = nBuffers ? put(words(bufferAts)) : 0;
    const childrenAt = nChildren ? put(words(children)) : 0;
    const struct = new Uint8Array(ARRAY_SIZE);
    const dv = new DataView(struct.buffer);
    for (const field of [0, 8, 16, 24, 32]) dv.setBigInt64(field, view.getBigInt64(a + field, true), true);
    dv.setUint32(40, buffersAt, true);
    dv.setUint32(44, childrenAt, true);
    dv.setUint32(48, dictionaryAt, true);
    dv.setUint32(52, 1, true);
    return put(struct);
  };
  const schemaAt = copySchema(schema);
  const arrayAt = copyArray(array, schema);
  const image = new Uint8Array(size);
  const dv = new DataView(image.buffer);
  image.set(Buffer.from("WUDFARR\x01", "latin1"), 0);
  dv.setUint32(8, arrayAt, true);
  dv.setUint32(12, schemaAt, true);
  for (const [at, data] of writes) image.set(data, at);
  for (const [at, source, n] of copies) image.set(bytes.subarray(source, source + n), at);
  return image;
}

// The records of the module's "wasmudf" custom sections: {name: record}.
function metadata(module) {
  const records = {};
  for (const section of WebAssembly.Module.customSections(module, "wasmudf")) {
    for (const record of Buffer.from(section).toString().split("\0")) {
      if (record) records[record.split(" ", 3)[2].split("(")[0]] = record;
    }
  }
  return records;
}

// One module, one instance, the guest ABI's call protocol.
export class AbiHost {
  constructor(wasmBytes) {
    const module = new WebAssembly.Module(wasmBytes);
    this.records = metadata(module);
    const wasi = new WASI({ version: "preview1", args: [], env: {}, returnOnExit: true });
    this.instance = new WebAssembly.Instance(module, wasi.getImportObject());
    this.x = this.instance.exports;
    if (this.x._initialize) wasi.initialize(this.instance);
    if (this.x.wudf_abi_version() !== 1) throw new Error("wudf_abi_version is not 1");
    this.arrayRelease = this.x.wudf_input_array_release();
    this.schemaRelease = this.x.wudf_input_schema_release();
    this.out = this.allocate(ARRAY_SIZE, 8);
    this.outSchema = this.allocate(SCHEMA_SIZE, 8);
    this.control = this.allocate(32, 8);
  }

  allocate(size, align) {
    const at = this.x.wudf_alloc(size, align);
    if (at === 0) throw new Error(`wudf_alloc(${size}, ${align}) failed`);
    return at;
  }

  // Views of the guest's memory as it is now (memory.grow replaces the buffer).
  mem() {
    const buffer = this.x.memory.buffer;
    if (this.buffer !== buffer) {
      this.buffer = buffer;
      this.bytes = new Uint8Array(buffer);
      this.view = new DataView(buffer);
    }
  }

  fail(fn, status) {
    const at = this.x.wudf_error_message();
    this.mem();
    throw new Error(`wudf_fn_${fn} returned ${status}: ${at ? cstr(this.bytes, at) : "no message"}`);
  }

  clearSlots() {
    this.mem();
    this.bytes.fill(0, this.out, this.out + ARRAY_SIZE);
    this.bytes.fill(0, this.outSchema, this.outSchema + SCHEMA_SIZE);
  }

  releaseSlots() {
    this.mem();
    if (u32(this.view, this.out + 52)) this.x.wudf_release_array(this.out);
    this.mem();
    if (u32(this.view, this.outSchema + 40)) this.x.wudf_release_schema(this.outSchema);
  }

  takeResult() {
    this.mem();
    const image = copyOut(this.bytes, this.view, this.out, this.outSchema);
    this.x.wudf_release_array(this.out);
    this.x.wudf_release_schema(this.outSchema);
    return image;
  }

  setControl(op, count) {
    this.mem();
    this.view.setUint32(this.control, op, true);
    this.view.setUint32(this.control + 4, 1, true);
    this.view.setBigInt64(this.control + 8, BigInt(count), true);
    this.bytes.fill(0, this.control + 16, this.control + 32);
  }

  callWithInput(exported, template, ...extra) {
    const block = this.allocate(template.data.length, 64);
    this.mem();
    const [args, argsSchema] = template.place(this.bytes, this.view, block, this.arrayRelease,
                                              this.schemaRelease);
    const status = exported(args, argsSchema, this.out, this.outSchema, ...extra);
    this.mem();
    if (u32(this.view, args + 52)) this.x.wudf_release_array(args);
    this.mem();
    if (u32(this.view, argsSchema + 40)) this.x.wudf_release_schema(argsSchema);
    this.mem();
    const live = u32(this.view, block);
    if (u32(this.view, block + 4) !== MAGIC || live === 0) {
      throw new Error("the guest damaged the input block's header");
    }
    if (live === 1) this.x.wudf_free(block);
    else this.view.setUint32(block, live - 1, true);
    return status;
  }

  // One call; returns the result images (a table function's chunks).
  call(kind, fn, template, groups = 0) {
    if (template.topNulls && !(this.records[fn] || "").includes("CALLED ON NULL INPUT")) {
      throw new Error(`${fn} is strict and the batch has nulls: this host does not compact rows`);
    }
    const exported = this.x["wudf_fn_" + fn];
    this.clearSlots();
    if (kind === "scalar") {
      const status = this.callWithInput(exported, template);
      if (status !== 0) {
        this.releaseSlots();
        this.fail(fn, status);
      }
      return [this.takeResult()];
    }
    if (kind === "aggregate") {
      this.setControl(OPS.UPDATE, groups);
      let status = this.callWithInput(exported, template, this.control);
      this.releaseSlots();
      if (status !== 0) this.fail(fn, status);
      this.setControl(OPS.FINISH, groups);
      status = exported(0, 0, this.out, this.outSchema, this.control);
      if (status !== 0) {
        this.releaseSlots();
        this.fail(fn, status);
      }
      const result = this.takeResult();
      this.setControl(OPS.FREE, groups);
      status = exported(0, 0, 0, 0, this.control);
      if (status !== 0) this.fail(fn, status);
      return [result];
    }
    if (kind === "table") {
      const chunks = [];
      this.setControl(OPS.INPUT, MAX_OUTPUT_ROWS);
      let status = this.callWithInput(exported, template, this.control);
      for (;;) {
        if (status !== 0) {
          this.releaseSlots();
          this.fail(fn, status);
        }
        this.mem();
        const more = u32(this.view, this.control + 16) & MORE;
        chunks.push(this.takeResult());
        if (!more) return chunks;
        this.clearSlots();
        this.setControl(OPS.CONTINUE, MAX_OUTPUT_ROWS);
        status = exported(0, 0, this.out, this.outSchema, this.control);
      }
    }
    throw new Error(`unknown kind ${kind}`);
  }
}

export function writeResults(path, images) {
  const parts = [];
  for (const image of images) {
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(BigInt(image.length));
    parts.push(size, image);
  }
  writeFileSync(path, Buffer.concat(parts));
}

function runPlan(path) {
  let host = null, hostModule = null;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line.trim() || line.startsWith("#")) continue;
    const [kernel, kind, fn, groupsText, rows, module, data, result, samplesText, callsText] =
      line.trim().split(/\s+/);
    const groups = Number(groupsText), samples = Number(samplesText), calls = Number(callsText);
    if (hostModule !== module) {
      host = new AbiHost(readFileSync(module));
      hostModule = module;
    }
    const template = new InputTemplate(readFileSync(data));
    writeResults(result, host.call(kind, fn, template, groups));
    // Warm-up, as bench/suite/runner.c: at least `calls` calls and 0.3 s.
    const warmUpStart = process.hrtime.bigint();
    for (let c = 0; c < calls || process.hrtime.bigint() - warmUpStart < 300000000n; c++) {
      host.call(kind, fn, template, groups);
    }
    const times = [];
    for (let s = 0; s < samples; s++) {
      const start = process.hrtime.bigint();
      for (let c = 0; c < calls; c++) host.call(kind, fn, template, groups);
      times.push(Number(process.hrtime.bigint() - start) / 1000 / calls);
    }
    console.log(`RESULT ${kernel} ${rows} ${times.map((t) => t.toFixed(4)).join(" ")}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.length !== 3) {
    console.error("usage: node host_node.mjs PLAN");
    process.exit(2);
  }
  runPlan(process.argv[2]);
}
