// The AudioWorklet of live mode: collects the microphone's mono frames (the node is set to
// one channel, so the browser downmixes) into pieces of about 100 ms and sends them
// straight to the worker over the port it was given, off the main thread.
const PIECE = 4096;

class LiveCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.out = null;
    this.piece = new Float32Array(PIECE);
    this.filled = 0;
    this.port.onmessage = ({ data }) => {
      if (data.port) this.out = data.port;
      if (data.stop) this.out = null;
    };
  }

  process(inputs) {
    const mono = inputs[0]?.[0];
    if (mono && this.out) {
      let at = 0;
      while (at < mono.length) {
        const n = Math.min(mono.length - at, PIECE - this.filled);
        this.piece.set(mono.subarray(at, at + n), this.filled);
        this.filled += n;
        at += n;
        if (this.filled === PIECE) {
          this.out.postMessage(this.piece, [this.piece.buffer]);
          this.piece = new Float32Array(PIECE);
          this.filled = 0;
        }
      }
    }
    return true;
  }
}

registerProcessor('live-capture', LiveCapture);
