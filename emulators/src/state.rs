//! Device state: the named values that commands change and packet layouts read.

use crate::expr::Env;
use std::collections::BTreeMap;

/// One state variable.
#[derive(Debug, Clone, PartialEq)]
pub enum StateValue {
    /// A single number (streaming flag, sample rate, end byte, …).
    Scalar(f64),
    /// Numbers indexed from 1 (per-channel gain, power, …).
    Array(Vec<f64>),
}

/// All state variables of a device, by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    vars: BTreeMap<String, StateValue>,
}

impl State {
    /// Builds a state from initial values.
    pub fn new(vars: BTreeMap<String, StateValue>) -> Self {
        State { vars }
    }

    /// Whether `name` exists, and whether it is an array.
    pub fn kind(&self, name: &str) -> Option<bool> {
        self.vars
            .get(name)
            .map(|v| matches!(v, StateValue::Array(_)))
    }

    /// A scalar's value.
    pub fn get(&self, name: &str) -> Option<f64> {
        match self.vars.get(name)? {
            StateValue::Scalar(v) => Some(*v),
            StateValue::Array(_) => None,
        }
    }

    /// An array element, 1-based.
    pub fn at(&self, name: &str, index: i64) -> Option<f64> {
        match self.vars.get(name)? {
            StateValue::Array(a) if index >= 1 => a.get(index as usize - 1).copied(),
            _ => None,
        }
    }

    /// An array's values (element 1 first).
    pub fn array(&self, name: &str) -> Option<&[f64]> {
        match self.vars.get(name)? {
            StateValue::Array(a) => Some(a),
            StateValue::Scalar(_) => None,
        }
    }

    /// Sets a scalar; returns false if it is not a declared scalar.
    pub fn set(&mut self, name: &str, v: f64) -> bool {
        match self.vars.get_mut(name) {
            Some(StateValue::Scalar(s)) => {
                *s = v;
                true
            }
            _ => false,
        }
    }

    /// Sets one array element (1-based); returns false if out of range.
    pub fn set_at(&mut self, name: &str, index: i64, v: f64) -> bool {
        match self.vars.get_mut(name) {
            Some(StateValue::Array(a)) if index >= 1 && (index as usize) <= a.len() => {
                a[index as usize - 1] = v;
                true
            }
            _ => false,
        }
    }

    /// Sets every element of an array; returns false if it is not an array.
    pub fn set_all(&mut self, name: &str, v: f64) -> bool {
        match self.vars.get_mut(name) {
            Some(StateValue::Array(a)) => {
                a.iter_mut().for_each(|x| *x = v);
                true
            }
            _ => false,
        }
    }

    /// Iterates over all variables (for reports).
    pub fn iter(&self) -> impl Iterator<Item = (&String, &StateValue)> {
        self.vars.iter()
    }
}

/// An expression environment: state plus a few extra scalars (per-packet variables,
/// loop variables, the fields of a command being applied).
pub struct Scope<'a> {
    /// The device state.
    pub state: &'a State,
    /// Extra scalars, searched before the state.
    pub extra: &'a [(&'a str, f64)],
    /// More extra scalars (loop bindings), searched first.
    pub bindings: &'a [(String, f64)],
}

impl Env for Scope<'_> {
    fn var(&self, name: &str) -> Option<f64> {
        self.bindings
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
            .or_else(|| self.extra.iter().find(|(n, _)| *n == name).map(|(_, v)| *v))
            .or_else(|| self.state.get(name))
    }
    fn index(&self, name: &str, index: i64) -> Option<f64> {
        self.state.at(name, index)
    }
}
