"""Business calendars an admin keeps: holidays and make-up working days per country, over
the packaged data (chinesecalendar for CN, holidays for the others), with the years whose
schedule was entered in full. Business-day arithmetic reads the combined calendar through
reading.py; the console page changes it through actions.py, every change audited."""
