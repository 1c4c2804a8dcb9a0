mod checks;
mod support_checks;
