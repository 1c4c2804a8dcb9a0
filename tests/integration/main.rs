mod checks;
mod checks_isolation;
mod support_checks;
