// Microphone recording as raw mono float32 at the audio context's rate, through an AudioWorklet
// (no lossy codec in between, so no decoding step is needed), handed over chunk by chunk (128
// samples, as the worklet renders them) while recording, so the caller can process the audio as it
// comes. Stops by itself after maxSeconds.

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
  sampleRate: number;
  /** Samples delivered through onChunk. */
  length: number;
  /** performance.now() when the recording was stopped (finish() or the time limit). */
  stoppedAt: number;
}

export interface RecorderCallbacks {
  maxSeconds?: number;
  /** Called once, before the first chunk, with the rate of every chunk. */
  onStart?: (sampleRate: number) => void;
  onChunk: (samples: Float32Array) => void;
  onTick?: (seconds: number) => void;
}

export class MicrophoneRecorder {
  private stop: (() => void) | null = null;

  get recording(): boolean {
    return this.stop !== null;
  }

  /** Resolves once finish() is called or maxSeconds have passed; rejects if the microphone is refused. */
  async start(opts: RecorderCallbacks): Promise<Recording> {
    const { maxSeconds = 10, onStart, onChunk, onTick } = opts;
    const stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    const context = new AudioContext();
    const url = URL.createObjectURL(new Blob([workletSource], { type: 'text/javascript' }));
    await context.audioWorklet.addModule(url);
    URL.revokeObjectURL(url);
    const source = context.createMediaStreamSource(stream);
    const node = new AudioWorkletNode(context, 'ser-capture');
    let length = 0;
    const limit = Math.floor(maxSeconds * context.sampleRate);
    onStart?.(context.sampleRate);
    return new Promise((done) => {
      const finish = () => {
        const stoppedAt = performance.now();
        this.stop = null;
        node.port.onmessage = null;
        source.disconnect();
        node.disconnect();
        for (const track of stream.getTracks()) track.stop();
        void context.close();
        done({ sampleRate: context.sampleRate, length, stoppedAt });
      };
      this.stop = finish;
      node.port.onmessage = (e: MessageEvent<Float32Array>) => {
        const chunk = e.data.subarray(0, limit - length);
        length += chunk.length;
        onChunk(chunk);
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
