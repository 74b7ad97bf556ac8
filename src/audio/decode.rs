//! Decoding audio files: symphonia for WAV, MP3, FLAC, Ogg Vorbis and more; ausnd for
//! Sun AU (the original GTZAN format), which symphonia does not read. Natively from files;
//! in the browser (the `decode` feature's wasm package) from the bytes of a dropped file,
//! for formats Web Audio cannot decode and for Web Workers, which have no Web Audio.
//!
//! Channels are averaged while decoding, so a long or many-channel file costs one mono
//! buffer of memory. What a header claims (sample rate, channels, length) is checked
//! before anything is allocated from it, and a file that decodes to more audio than
//! [`MAX_DECODED_SAMPLES`] is refused as it decodes, so a small file that claims or
//! expands to hours of audio costs neither gigabytes nor minutes.

use std::fs::File;
use std::io::{BufReader, Cursor, ErrorKind, Read, Seek};
use std::path::{Path, PathBuf};

use symphonia::core::audio::GenericAudioBufferRef;
use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, Track, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::packet::Packet;

use super::wave_header::read_wave_channels;
use super::{AudioError, Clip, check_sample_rate};

/// Most channels a file may have: third-order ambisonics has 16, 22.2 surround 24.
pub const MAX_CHANNELS: usize = 64;

/// Most mono samples a file may decode to: 2^28, 1 GiB of samples, 1 h 41 min at 44.1 kHz.
pub const MAX_DECODED_SAMPLES: usize = 1 << 28;

/// Why a file could not be decoded. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The file could not be opened or read.
    #[error("{path}: cannot read: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error (in the message, so not a `source` that reports would repeat).
        cause: std::io::Error,
    },
    /// The file is not in a format or codec we can decode.
    #[error("{path}: not a supported audio file ({reason})")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        reason: String,
    },
    /// The file claims to be audio but its data is broken.
    #[error("{path}: corrupt audio ({reason})")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The file decoded to no samples.
    #[error("{path}: contains no audio samples")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The file has more channels than [`MAX_CHANNELS`].
    #[error("{path}: {channels} channels; at most {MAX_CHANNELS} are supported")]
    TooManyChannels {
        /// The file.
        path: PathBuf,
        /// The channels it has.
        channels: u64,
    },
    /// The file decodes to more than [`MAX_DECODED_SAMPLES`] samples.
    #[error("{path}: decodes to more than {MAX_DECODED_SAMPLES} samples, longer than any song")]
    TooLong {
        /// The file.
        path: PathBuf,
    },
    /// The decoded samples could not become a clip.
    #[error("{path}: {cause}")]
    Audio {
        /// The file.
        path: PathBuf,
        /// The problem (in the message, so not a `source`).
        cause: AudioError,
    },
}

/// A decoded file, already averaged to mono, at its own sample rate.
#[derive(Debug, Clone)]
pub struct DecodedAudio {
    /// Mono samples.
    pub mono: Vec<f32>,
    /// The file's sample rate in Hz.
    pub sample_rate: u32,
    /// The file's channel count.
    pub channels: usize,
}

/// Decodes `path` and resamples it to `target_rate`.
pub fn load_clip(path: &Path, target_rate: u32) -> Result<Clip, DecodeError> {
    let decoded = decode_file(path)?;
    Clip::from_mono(decoded.mono, decoded.sample_rate, target_rate).map_err(|cause| {
        DecodeError::Audio {
            path: path.to_owned(),
            cause,
        }
    })
}

/// Decodes a whole file to mono at its own rate.
pub fn decode_file(path: &Path) -> Result<DecodedAudio, DecodeError> {
    let file = File::open(path).map_err(|cause| DecodeError::Io {
        path: path.to_owned(),
        cause,
    })?;
    decode_source(path, file)
}

/// Decodes the bytes of a file called `name` (its extension is a hint to the format) to
/// mono at its own rate.
pub fn decode_bytes(name: &str, bytes: Vec<u8>) -> Result<DecodedAudio, DecodeError> {
    decode_source(Path::new(name), Cursor::new(bytes))
}

fn decode_source<S>(path: &Path, mut source: S) -> Result<DecodedAudio, DecodeError>
where
    S: MediaSource + Read + Seek + 'static,
{
    let is_au = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("au"))
        || starts_like_au(path, &mut source)?;
    let decoded = if is_au {
        decode_au(path, source)?
    } else {
        check_wave_header(path, &mut source)?;
        decode_symphonia(path, source)?
    };
    if decoded.mono.is_empty() {
        return Err(DecodeError::Empty {
            path: path.to_owned(),
        });
    }
    check_rate(path, decoded.sample_rate)?;
    Ok(decoded)
}

/// Whether `source` starts with Sun AU's magic (`.snd`), whatever the file is called;
/// leaves `source` at its start.
fn starts_like_au<S: Read + Seek>(path: &Path, source: &mut S) -> Result<bool, DecodeError> {
    let io = |cause| DecodeError::Io {
        path: path.to_owned(),
        cause,
    };
    let mut magic = [0u8; 4];
    let read = source.read(&mut magic).map_err(io)?;
    source.seek(std::io::SeekFrom::Start(0)).map_err(io)?;
    Ok(read == 4 && &magic == b".snd")
}

/// Refuses a sample rate no real recording has.
fn check_rate(path: &Path, rate: u32) -> Result<(), DecodeError> {
    check_sample_rate(rate).map_err(|cause| DecodeError::Audio {
        path: path.to_owned(),
        cause,
    })
}

/// Refuses a channel count of more than [`MAX_CHANNELS`] (or none).
fn check_channels(path: &Path, channels: u64) -> Result<(), DecodeError> {
    if channels == 0 {
        return Err(DecodeError::Unsupported {
            path: path.to_owned(),
            reason: "zero channels".into(),
        });
    }
    if channels > MAX_CHANNELS as u64 {
        return Err(DecodeError::TooManyChannels {
            path: path.to_owned(),
            channels,
        });
    }
    Ok(())
}

/// Refuses a song that would grow past [`MAX_DECODED_SAMPLES`] by `more` samples.
fn check_length(path: &Path, samples: usize, more: usize) -> Result<(), DecodeError> {
    if samples.saturating_add(more) > MAX_DECODED_SAMPLES {
        return Err(DecodeError::TooLong {
            path: path.to_owned(),
        });
    }
    Ok(())
}

/// Adds one interleaved block of `channels` channels to `mono` as channel averages.
fn push_interleaved(mono: &mut Vec<f32>, interleaved: &[f32], channels: usize) {
    let scale = 1.0 / channels as f32;
    mono.extend(
        interleaved
            .chunks_exact(channels)
            .map(|frame| frame.iter().sum::<f32>() * scale),
    );
}

/// Decodes a file symphonia reads, in its stages: probe the container, pick its audio
/// track and make its decoder, decode the track's packets, and refuse a file none of
/// whose packets decoded.
fn decode_symphonia(
    path: &Path,
    source: impl MediaSource + 'static,
) -> Result<DecodedAudio, DecodeError> {
    // No file holds more frames than bytes, whatever its header says: the bound on what
    // is reserved up front.
    let source_bytes = source.byte_len().unwrap_or(0);
    let mut format = probe(path, source)?;
    let track = audio_track(path, format.as_ref())?;
    let track_id = track.id;
    // The container's frame count, when it states one: one allocation for the whole song.
    let expected_frames = track
        .num_frames
        .map_or(0, |n| n.min(source_bytes).min(1 << 24) as usize);
    let mut decoder = make_decoder(path, track)?;
    let mut song = MonoSong::with_capacity(expected_frames);
    decode_packets(path, format.as_mut(), decoder.as_mut(), track_id, &mut song)?;
    song.finish(path)
}

/// The decoder's "not a supported audio file" error, for `path`.
fn unsupported(path: &Path, reason: &dyn std::fmt::Display) -> DecodeError {
    DecodeError::Unsupported {
        path: path.to_owned(),
        reason: reason.to_string(),
    }
}

/// The decoder's "corrupt audio" error, for `path`.
fn corrupt(path: &Path, reason: &dyn std::fmt::Display) -> DecodeError {
    DecodeError::Corrupt {
        path: path.to_owned(),
        reason: reason.to_string(),
    }
}

/// Whether a symphonia error is the end of a truncated file, which ends the song early.
fn is_truncation(error: &SymphoniaError) -> bool {
    matches!(error, SymphoniaError::IoError(e) if e.kind() == ErrorKind::UnexpectedEof)
}

/// Finds the container format of `source`, its extension in `path` as a hint.
fn probe(
    path: &Path,
    source: impl MediaSource + 'static,
) -> Result<Box<dyn FormatReader>, DecodeError> {
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let stream = MediaSourceStream::new(Box::new(source), Default::default());
    symphonia::default::get_probe()
        .probe(
            &hint,
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| unsupported(path, &e))
}

/// The container's default audio track.
fn audio_track<'f>(path: &Path, format: &'f dyn FormatReader) -> Result<&'f Track, DecodeError> {
    format
        .default_track(TrackType::Audio)
        .ok_or_else(|| unsupported(path, &"no audio track"))
}

/// A decoder for `track`, once the rate and channels its parameters state are checked.
fn make_decoder(path: &Path, track: &Track) -> Result<Box<dyn AudioDecoder>, DecodeError> {
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| unsupported(path, &"no audio codec parameters"))?;
    if let Some(rate) = params.sample_rate {
        check_rate(path, rate)?;
    }
    if let Some(channels) = &params.channels {
        check_channels(path, channels.count() as u64)?;
    }
    symphonia::default::get_codecs()
        .make_audio_decoder(params, &AudioDecoderOptions::default())
        .map_err(|e| unsupported(path, &e))
}

/// Decodes every packet of track `track_id` into `song`, to the end of the file (or of a
/// truncated file's data), skipping damaged packets as any player does.
fn decode_packets(
    path: &Path,
    format: &mut dyn FormatReader,
    decoder: &mut dyn AudioDecoder,
    track_id: u32,
    song: &mut MonoSong,
) -> Result<(), DecodeError> {
    while let Some(packet) = next_packet(path, format)? {
        if packet.track_id != track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(buffer) => song.push(path, &buffer)?,
            Err(SymphoniaError::DecodeError(e)) => song.skip_damaged(e),
            Err(e) if is_truncation(&e) => break,
            Err(e) => return Err(corrupt(path, &e)),
        }
    }
    Ok(())
}

/// The container's next packet; `None` at the end, and at the early end of a truncated
/// file (what was decoded is kept).
fn next_packet(path: &Path, format: &mut dyn FormatReader) -> Result<Option<Packet>, DecodeError> {
    match format.next_packet() {
        Ok(packet) => Ok(packet),
        Err(e) if is_truncation(&e) => Ok(None),
        Err(e) => Err(corrupt(path, &e)),
    }
}

/// The song as symphonia decodes it: mono samples so far, the stream's rate and channels
/// (0 until the first buffer), and the damaged packets skipped.
struct MonoSong {
    /// Channel averages of every frame decoded.
    mono: Vec<f32>,
    /// Scratch for one interleaved buffer of a many-channel stream.
    interleaved: Vec<f32>,
    /// The stream's sample rate (0 before the first buffer).
    rate: u32,
    /// The stream's channel count (0 before the first buffer).
    channels: usize,
    /// Packets the decoder refused as damaged.
    bad_packets: usize,
    /// What it said of the last one.
    last_error: String,
}

impl MonoSong {
    /// An empty song with room for `frames` samples.
    fn with_capacity(frames: usize) -> Self {
        Self {
            mono: Vec::with_capacity(frames),
            interleaved: Vec::new(),
            rate: 0,
            channels: 0,
            bad_packets: 0,
            last_error: String::new(),
        }
    }

    /// Adds one decoded buffer as channel averages; a buffer of no channels adds nothing.
    fn push(&mut self, path: &Path, buffer: &GenericAudioBufferRef<'_>) -> Result<(), DecodeError> {
        let spec = buffer.spec();
        let buffer_channels = spec.channels().count();
        if buffer_channels == 0 {
            return Ok(());
        }
        self.check_spec(path, spec.rate(), buffer_channels)?;
        check_length(path, self.mono.len(), buffer.frames())?;
        if self.channels == 1 {
            // Mono (GTZAN): straight into the song, without the interleaving copy.
            let start = self.mono.len();
            self.mono.resize(start + buffer.frames(), 0.0);
            buffer.copy_to_slice_interleaved::<f32, _>(&mut self.mono[start..]);
        } else {
            buffer.copy_to_vec_interleaved(&mut self.interleaved);
            push_interleaved(&mut self.mono, &self.interleaved, self.channels);
        }
        Ok(())
    }

    /// Takes the first buffer's rate and channels, once checked; refuses a later buffer
    /// with others.
    fn check_spec(&mut self, path: &Path, rate: u32, channels: usize) -> Result<(), DecodeError> {
        if self.rate == 0 {
            check_rate(path, rate)?;
            check_channels(path, channels as u64)?;
            (self.rate, self.channels) = (rate, channels);
        } else if rate != self.rate || channels != self.channels {
            return Err(unsupported(
                path,
                &"the stream changes sample rate or channel count",
            ));
        }
        Ok(())
    }

    /// Counts a damaged packet, keeping what the decoder said of it.
    fn skip_damaged(&mut self, error: &str) {
        self.bad_packets += 1;
        self.last_error = error.to_string();
    }

    /// The decoded song; an error if every packet was damaged.
    fn finish(self, path: &Path) -> Result<DecodedAudio, DecodeError> {
        if self.mono.is_empty() && self.bad_packets > 0 {
            return Err(corrupt(
                path,
                &format!(
                    "none of {} packets decoded: {}",
                    self.bad_packets, self.last_error
                ),
            ));
        }
        Ok(DecodedAudio {
            mono: self.mono,
            sample_rate: self.rate,
            channels: self.channels,
        })
    }
}

/// Checks the channels every WAVE header near the start of the file claims, before
/// symphonia reads one: the count against [`MAX_CHANNELS`], and a channel mask that
/// symphonia cannot repair (see `wave_header`).
fn check_wave_header(path: &Path, source: &mut (impl Read + Seek)) -> Result<(), DecodeError> {
    let headers = read_wave_channels(source).map_err(|cause| DecodeError::Io {
        path: path.to_owned(),
        cause,
    })?;
    for format in headers {
        check_channels(path, u64::from(format.channels))?;
        if format.mask_unrepairable() {
            let mask = format.channel_mask.unwrap_or(0);
            return Err(DecodeError::Corrupt {
                path: path.to_owned(),
                reason: format!(
                    "the WAVE header claims {} channels, but its channel mask {mask:#010x} \
                     names {} speaker positions",
                    format.channels,
                    mask.count_ones()
                ),
            });
        }
    }
    Ok(())
}

/// Checks that an AU header's data offset (bytes 4..8, big-endian) lies within the file,
/// before ausnd reads it: ausnd 0.7 subtracts it from the file's length unchecked (a
/// panic in debug builds, a wrapped length in release).
fn check_au_offset(path: &Path, source: &mut (impl Read + Seek)) -> Result<(), DecodeError> {
    let io = |cause| DecodeError::Io {
        path: path.to_owned(),
        cause,
    };
    let len = source.seek(std::io::SeekFrom::End(0)).map_err(io)?;
    source.seek(std::io::SeekFrom::Start(0)).map_err(io)?;
    let mut header = [0u8; 8];
    if source.read_exact(&mut header).is_ok() && &header[..4] == b".snd" {
        let offset = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
        if u64::from(offset) > len {
            return Err(DecodeError::Corrupt {
                path: path.to_owned(),
                reason: format!(
                    "the header puts the audio at byte {offset}, past the end of the {len}-byte file"
                ),
            });
        }
    }
    source.seek(std::io::SeekFrom::Start(0)).map_err(io)?;
    Ok(())
}

fn decode_au(path: &Path, mut source: impl Read + Seek) -> Result<DecodedAudio, DecodeError> {
    let corrupt = |e: &dyn std::fmt::Debug| DecodeError::Corrupt {
        path: path.to_owned(),
        reason: format!("{e:?}"),
    };
    check_au_offset(path, &mut source)?;
    let mut reader =
        ausnd::AuReader::new(BufReader::new(source)).map_err(|e| DecodeError::Unsupported {
            path: path.to_owned(),
            reason: format!("not a Sun AU file: {e:?}"),
        })?;
    let info = reader.info().clone();
    check_rate(path, info.sample_rate)?;
    check_channels(path, u64::from(info.channels))?;
    let channels = info.channels as usize;
    let scale = 1.0 / channels as f32;
    let mut mono = Vec::new();
    let (mut frame_sum, mut in_frame) = (0f32, 0usize);
    for sample in reader.samples().map_err(|e| corrupt(&e))? {
        let sample = match sample {
            Ok(sample) => sample,
            // A truncated file (or one whose header claims more data than it holds) ends
            // early: keep what was decoded, as for the other formats.
            Err(ausnd::AuError::StdIoError(e)) if e.kind() == ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(corrupt(&e)),
        };
        let value = match sample {
            ausnd::Sample::I8(v) => f32::from(v) / 128.0,
            ausnd::Sample::I16(v) => f32::from(v) / 32_768.0,
            ausnd::Sample::I24(v) => v as f32 / 8_388_608.0,
            ausnd::Sample::I32(v) => v as f32 / 2_147_483_648.0,
            ausnd::Sample::F32(v) => v,
            ausnd::Sample::F64(v) => v as f32,
        };
        // Channels averaged as they arrive, as `push_interleaved` does per block.
        frame_sum += value;
        in_frame += 1;
        if in_frame == channels {
            check_length(path, mono.len(), 1)?;
            mono.push(frame_sum * scale);
            (frame_sum, in_frame) = (0.0, 0);
        }
    }
    Ok(DecodedAudio {
        mono,
        sample_rate: info.sample_rate,
        channels,
    })
}
