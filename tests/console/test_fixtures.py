def test_a_late_request_waits_in_review_with_its_clock_running(case_in_review):
    assert case_in_review.state == "in_review"
    assert case_in_review.sla_due_at == case_in_review.first_response_due
