mod history;
mod support_history;
