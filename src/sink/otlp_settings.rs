//! The OTLP settings a configuration names, compiled with or without the `otlp` feature: a
//! configuration file that asks for an OTLP sink parses either way, and is refused with a clear
//! message when the feature is off.

/// The OTLP transport. Always chosen explicitly: the exporter's own default depends on which of
/// its cargo features other crates in the build happen to switch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "config",
    derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)
)]
#[non_exhaustive]
pub enum OtlpProtocol {
    /// gRPC (port 4317 by convention).
    #[cfg_attr(feature = "config", serde(rename = "grpc"))]
    Grpc,
    /// HTTP with protobuf bodies (port 4318, `/v1/logs`): the OpenTelemetry default.
    #[cfg_attr(feature = "config", serde(rename = "http/protobuf"))]
    HttpProtobuf,
    /// HTTP with JSON bodies (port 4318, `/v1/logs`).
    #[cfg_attr(feature = "config", serde(rename = "http/json"))]
    HttpJson,
}

impl OtlpProtocol {
    /// The name used by `OTEL_EXPORTER_OTLP_PROTOCOL`: `grpc`, `http/protobuf`, `http/json`.
    pub const fn as_str(self) -> &'static str {
        match self {
            OtlpProtocol::Grpc => "grpc",
            OtlpProtocol::HttpProtobuf => "http/protobuf",
            OtlpProtocol::HttpJson => "http/json",
        }
    }

    #[cfg(feature = "otlp")] // read from OTEL_* by the sink
    pub(crate) fn parse(text: &str) -> Option<Self> {
        Some(match text.trim() {
            "grpc" => OtlpProtocol::Grpc,
            "http/protobuf" => OtlpProtocol::HttpProtobuf,
            "http/json" => OtlpProtocol::HttpJson,
            _ => return None,
        })
    }
}

/// Payload compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "config",
    derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum OtlpCompression {
    /// gzip.
    Gzip,
    /// zstd.
    Zstd,
}
