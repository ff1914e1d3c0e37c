"""Tickets (工单): the work order of a request, its lifecycle, deadlines and timeline."""
