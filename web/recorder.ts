// Microphone recording as raw mono float32 at the audio context's rate, through an AudioWorklet
// (no lossy codec in between, so no decoding step is needed). Stops by itself after maxSeconds.

const workletSource = `
registerProcessor('ser-capture', class extends AudioWorkletProcessor {
  process(inputs) {
    const channels = inputs[0];
    if (channels && channels.length > 0) {
      const mono = new Float32Array(channels[0].length);
      for (const ch of channels) for (let i = 0; i < mono.length; i++) mono[i] += ch[i] / channels.length;
      this.port.postMessage(mono, [mono.buffer]);
    }
    return true;
  }
});`;

export interface Recording {
  samples: Float32Array;
  sampleRate: number;
}

export class MicrophoneRecorder {
  private stop: (() => void) | null = null;

  get recording(): boolean {
    return this.stop !== null;
  }

  /** Resolves with the recording once finish() is called or maxSeconds have passed. */
  async start(opts: { maxSeconds?: number; onTick?: (seconds: number) => void } = {}): Promise<Recording> {
    const { maxSeconds = 10, onTick } = opts;
    const stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    const context = new AudioContext();
    const url = URL.createObjectURL(new Blob([workletSource], { type: 'text/javascript' }));
    await context.audioWorklet.addModule(url);
    URL.revokeObjectURL(url);
    const source = context.createMediaStreamSource(stream);
    const node = new AudioWorkletNode(context, 'ser-capture');
    const chunks: Float32Array[] = [];
    let length = 0;
    const limit = maxSeconds * context.sampleRate;
    return new Promise((done) => {
      const finish = () => {
        this.stop = null;
        source.disconnect();
        node.disconnect();
        for (const track of stream.getTracks()) track.stop();
        void context.close();
        const samples = new Float32Array(Math.min(length, limit));
        let at = 0;
        for (const c of chunks) {
          if (at >= samples.length) break;
          samples.set(c.subarray(0, samples.length - at), at);
          at += c.length;
        }
        done({ samples, sampleRate: context.sampleRate });
      };
      this.stop = finish;
      node.port.onmessage = (e: MessageEvent<Float32Array>) => {
        chunks.push(e.data);
        length += e.data.length;
        onTick?.(length / context.sampleRate);
        if (length >= limit && this.stop) finish();
      };
      // A node is only pulled while it leads to the destination: route it there through silence.
      const mute = context.createGain();
      mute.gain.value = 0;
      source.connect(node).connect(mute).connect(context.destination);
    });
  }

  finish(): void {
    this.stop?.();
  }
}
