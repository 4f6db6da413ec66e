//! The typed documents read back what goodhart writes, byte for byte: the committed demo's
//! fits, scaling and predictions JSON parse into `FitsDocument`, `ScalingDoc` and `PredictDoc`
//! and serialise to the same bytes, so no field is lost or renamed on the way.

use std::path::Path;

use goodhart::document::{FitsDocument, PredictDoc, ScalingDoc, Target};

fn repo(p: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

#[test]
fn demo_documents_round_trip_byte_for_byte() {
    let fits_bytes = std::fs::read(repo("fits/fits.json")).unwrap();
    let fits = FitsDocument::read(&repo("fits/fits.json")).unwrap();
    assert!(fits.fits.len() > 100);
    assert!(fits.fits.iter().any(|f| f.target == Target::Proxy));
    assert!(!fits.decomposition.is_empty());
    assert!(!fits.extrapolation.is_empty());
    assert_eq!(fits.to_json(), fits_bytes);
    // A record written before the "units" field existed reads as raw units.
    let old = r#"{"goodhart_version": "0.1.0", "fits": [], "decomposition": [{"method": "bon", "rm_params": 1, "source": "coefficients", "form": "bon"}]}"#;
    let legacy: FitsDocument =
        FitsDocument::parse(old.as_bytes(), std::path::Path::new("old.json")).unwrap();
    assert_eq!(
        legacy.decomposition[0].units,
        goodhart::document::Units::Raw
    );

    let scaling_bytes = std::fs::read(repo("fits/scaling.json")).unwrap();
    let scaling = ScalingDoc::read(&repo("fits/scaling.json")).unwrap();
    assert!(!scaling.laws.is_empty());
    assert_eq!(scaling.to_json(), scaling_bytes);

    let pred_bytes = std::fs::read(repo("fits/predictions.json")).unwrap();
    let pred = PredictDoc::read(&repo("fits/predictions.json")).unwrap();
    assert!(!pred.predictions.is_empty());
    assert_eq!(pred.to_json(), pred_bytes);
}

#[test]
fn a_document_without_version_is_refused_with_the_file_named() {
    let t = crate::common::TestDir::new();
    let p = t.write("f.json", r#"{"fits": []}"#);
    let e = FitsDocument::read(&p).unwrap_err().to_string();
    assert!(
        e.contains("f.json") && e.contains("goodhart_version"),
        "{e}"
    );
}
