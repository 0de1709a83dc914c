"""OncoRoute intake: takes second-opinion requests, classifies them and opens cases."""
