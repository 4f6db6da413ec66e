use pyo3::prelude::*;

#[pymodule]
fn _goodhart(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
